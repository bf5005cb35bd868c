using System.Runtime.InteropServices;

namespace Tend.Io;

/// <summary>Flags of one open descriptor: blocking or not, and whether it survives execve(2).</summary>
public static class Descriptors
{
    /// <summary>Sets O_NONBLOCK. Throws IOException.</summary>
    public static void MakeNonBlocking(SafeHandle fd)
    {
        int flags = Interop.Sys.Fcntl(fd, Interop.Sys.F_GETFL, 0);
        if (flags < 0 || Interop.Sys.Fcntl(fd, Interop.Sys.F_SETFL, flags | Interop.Sys.O_NONBLOCK) < 0)
            throw Interop.Sys.GetIOException(Marshal.GetLastPInvokeError(), "fcntl O_NONBLOCK");
    }

    /// <summary>
    /// Sets or clears FD_CLOEXEC. Cleared, the descriptor stays open, at the same number, in the
    /// program this process becomes with execve: how a daemon hands its pipes and sockets to its next
    /// version without a moment in which nobody holds them. Throws IOException.
    /// </summary>
    public static void SetCloseOnExec(SafeHandle fd, bool closeOnExec)
    {
        if (Interop.Sys.Fcntl(fd, Interop.Sys.F_SETFD, closeOnExec ? Interop.Sys.FD_CLOEXEC : 0) < 0)
            throw Interop.Sys.GetIOException(Marshal.GetLastPInvokeError(), "fcntl FD_CLOEXEC");
    }

    /// <summary>True when the number names an open descriptor of this process.</summary>
    public static bool IsOpen(int fd) => fd >= 0 && Interop.Sys.Fcntl(fd, Interop.Sys.F_GETFD, 0) >= 0;
}
