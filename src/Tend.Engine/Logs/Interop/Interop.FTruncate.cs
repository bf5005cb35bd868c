using System.Runtime.InteropServices;

namespace Tend.Logs;

internal static partial class Interop
{
    internal static partial class Sys
    {
        [LibraryImport("libc", EntryPoint = "ftruncate", SetLastError = true)]
        internal static partial int FTruncate(int fd, long length);
    }
}
