using System.Runtime.InteropServices;

namespace Tend;

internal static partial class Interop
{
    internal static partial class Sys
    {
        internal const int PR_SET_CHILD_SUBREAPER = 36;
        internal const int PR_GET_CHILD_SUBREAPER = 37;

        // prctl is variadic in C; integer varargs travel like fixed integer arguments on
        // x86-64 and arm64 Linux, so a fixed five-argument signature is exact.
        [LibraryImport(Libraries.Libc, EntryPoint = "prctl", SetLastError = true)]
        internal static partial int Prctl(int option, ulong arg2, ulong arg3, ulong arg4, ulong arg5);
    }
}
