using System.Runtime.InteropServices;

namespace Tend.Processes;

internal static partial class Interop
{
    internal static partial class Sys
    {
        internal const int O_RDONLY = 0, O_WRONLY = 1, O_CLOEXEC = 0x80000;

        [LibraryImport(Libraries.Libc, EntryPoint = "pipe2", SetLastError = true)]
        internal static unsafe partial int Pipe2(int* fds, int flags);
    }
}
