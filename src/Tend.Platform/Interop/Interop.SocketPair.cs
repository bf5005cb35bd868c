using System.Runtime.InteropServices;

namespace Tend;

internal static partial class Interop
{
    internal static partial class Sys
    {
        internal const int SOCK_STREAM = 1;

        [LibraryImport(Libraries.Libc, EntryPoint = "socketpair", SetLastError = true)]
        internal static unsafe partial int SocketPair(int domain, int type, int protocol, int* fds);
    }
}
