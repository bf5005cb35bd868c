using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Tend.Io;

/// <summary>
/// Who is at the other end of a connected unix socket, as the kernel recorded it when they connected
/// (SO_PEERCRED): their pid, uid and gid, which the peer cannot forge.
/// </summary>
public readonly record struct PeerCredentials(int Pid, uint Uid, uint Gid)
{
    /// <summary>The peer of <paramref name="socket"/>; null for a socket that is not AF_UNIX or has closed.</summary>
    public static unsafe PeerCredentials? Of(Socket socket)
    {
        if (socket.AddressFamily != AddressFamily.Unix) return null;
        Interop.Sys.UCred cred;
        uint length = (uint)sizeof(Interop.Sys.UCred);
        try
        {
            if (Interop.Sys.GetSockOpt(socket.SafeHandle, Interop.Sys.SOL_SOCKET, Interop.Sys.SO_PEERCRED, &cred, &length) != 0) return null;
        }
        catch (ObjectDisposedException) { return null; }
        return new PeerCredentials(cred.Pid, cred.Uid, cred.Gid);
    }

    /// <summary>The executable of the peer's process (/proc/pid/exe), when it is still there and readable.</summary>
    public string? Executable()
    {
        try { return File.ResolveLinkTarget($"/proc/{Pid}/exe", returnFinalTarget: false)?.FullName; }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
    }
}
