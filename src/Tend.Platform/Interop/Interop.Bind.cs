using System.Runtime.InteropServices;

namespace Tend;

internal static partial class Interop
{
    internal static partial class Sys
    {
        // struct sockaddr_un: sa_family_t (2 bytes), then char sun_path[108]. A filesystem path must
        // end with a NUL inside sun_path, so it holds at most 107 bytes.
        internal const int SockAddrUnSize = 110, SunPathOffset = 2, SunPathMaxBytes = 107;

        [LibraryImport(Libraries.Libc, EntryPoint = "bind", SetLastError = true)]
        internal static unsafe partial int Bind(int fd, byte* addr, uint addrLen);

        [LibraryImport(Libraries.Libc, EntryPoint = "getsockname", SetLastError = true)]
        internal static unsafe partial int GetSockName(int fd, byte* addr, uint* addrLen);
    }
}
