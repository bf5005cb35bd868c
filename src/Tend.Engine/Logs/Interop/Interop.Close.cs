using System.Runtime.InteropServices;

namespace Tend.Logs;

internal static partial class Interop
{
    internal static partial class Sys
    {
        [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
        internal static partial int Close(int fd);
    }
}
