using System.Runtime.InteropServices;

namespace Tend;

internal static partial class Interop
{
    internal static partial class Sys
    {
        internal const int _SC_CLK_TCK = 2;

        [LibraryImport(Libraries.Libc, EntryPoint = "sysconf", SetLastError = true)]
        internal static partial long SysConf(int name);
    }
}
