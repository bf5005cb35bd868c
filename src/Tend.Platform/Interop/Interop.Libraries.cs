namespace Tend;

internal static partial class Interop
{
    internal static class Libraries
    {
        // The resolver maps "libc" to libc.so.6 on glibc systems.
        internal const string Libc = "libc";
    }
}
