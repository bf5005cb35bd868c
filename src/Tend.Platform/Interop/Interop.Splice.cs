using System.Runtime.InteropServices;

namespace Tend;

internal static partial class Interop
{
    internal static partial class Sys
    {
        internal const uint SPLICE_F_MOVE = 1, SPLICE_F_NONBLOCK = 2;
        internal const int SHUT_WR = 1, SHUT_RDWR = 2;

        /// <summary>splice(2) with no offsets (both ends are a pipe or a socket): bytes moved, 0 at end of stream, -1 with errno.</summary>
        [LibraryImport(Libraries.Libc, EntryPoint = "splice", SetLastError = true)]
        internal static unsafe partial nint Splice(SafeHandle fdIn, long* offIn, SafeHandle fdOut, long* offOut, nuint len, uint flags);

        [LibraryImport(Libraries.Libc, EntryPoint = "shutdown", SetLastError = true)]
        internal static partial int Shutdown(SafeHandle socket, int how);
    }
}
