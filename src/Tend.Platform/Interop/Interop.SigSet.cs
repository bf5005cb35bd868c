using System.Runtime.InteropServices;

namespace Tend;

internal static partial class Interop
{
    internal static partial class Sys
    {
        [LibraryImport(Libraries.Libc, EntryPoint = "sigemptyset", SetLastError = true)]
        internal static unsafe partial int SigEmptySet(void* set);
    }
}
