using System.Runtime.InteropServices;

namespace Tend;

internal static partial class Interop
{
    internal static partial class Sys
    {
        // asm-generic values, shared by x86-64 and arm64.
        internal const int SOL_SOCKET = 1, SO_REUSEADDR = 2, SO_PASSCRED = 16;

        [LibraryImport(Libraries.Libc, EntryPoint = "setsockopt", SetLastError = true)]
        internal static unsafe partial int SetSockOpt(int fd, int level, int optName, void* optVal, uint optLen);
    }
}
