using System.Runtime.InteropServices;
using System.Text;

namespace Tend.Io;

/// <summary>What one receive from a <see cref="CredentialSocket"/> got.</summary>
public enum ReceiveStatus
{
    /// <summary>A datagram, in the buffer.</summary>
    Datagram,
    /// <summary>Nothing is waiting (EAGAIN).</summary>
    Empty,
    /// <summary>The socket failed or was closed; <see cref="DatagramReceipt.Error"/> says why.</summary>
    Failed,
}

/// <summary>One receive: its status, the datagram's length, whether it was cut to the buffer, and the sender's pid (0: none).</summary>
public readonly record struct DatagramReceipt(ReceiveStatus Status, int Length, bool Truncated, int SenderPid, string? Error = null);

/// <summary>
/// A bound, non-blocking AF_UNIX datagram socket with SO_PASSCRED: every datagram arrives with the
/// kernel's word on who sent it (SCM_CREDENTIALS), which a sender cannot forge. What NOTIFY_SOCKET
/// needs: the engine decides whom to trust, this only reads.
/// </summary>
public sealed class CredentialSocket : IDisposable
{
    /// <summary>Room for exactly one SCM_CREDENTIALS message.</summary>
    private static readonly unsafe int s_controlSize = Interop.Sys.CMsgSpace(sizeof(Interop.Sys.UCred));

    private CredentialSocket(SafeFdHandle handle, string path)
    {
        Handle = handle;
        Path = path;
    }

    /// <summary>The longest path a unix socket address holds, in UTF-8 bytes.</summary>
    public static int MaxPathBytes => Interop.Sys.SunPathMaxBytes;

    public string Path { get; }

    /// <summary>For the epoll set.</summary>
    public SafeFdHandle Handle { get; }

    /// <summary>Creates the socket, asks for credentials, then binds it at <paramref name="path"/> (a stale file there is removed first).
    /// A path starting with '@' names a socket in the abstract namespace, as NOTIFY_SOCKET writes it: no file, no
    /// file permissions (so a process of any user can reach it; the credentials of each datagram say who sent it). Throws IOException.</summary>
    public static unsafe CredentialSocket Bind(string path)
    {
        if (Encoding.UTF8.GetByteCount(path) is int pathBytes && pathBytes > MaxPathBytes)
            throw new PathTooLongException($"{path} is {pathBytes} bytes; a unix socket path holds at most {MaxPathBytes}");
        int fd = Interop.Sys.Socket(Interop.Sys.AF_UNIX, Interop.Sys.SOCK_DGRAM | Interop.Sys.SOCK_NONBLOCK | Interop.Sys.SOCK_CLOEXEC, 0);
        if (fd < 0) throw Interop.Sys.GetIOException(Marshal.GetLastPInvokeError(), "socket for " + path);
        var handle = new SafeFdHandle(fd);
        try
        {
            // Before bind: a datagram can only arrive once the path exists, and every one of them
            // must carry credentials.
            int one = 1;
            if (Interop.Sys.SetSockOpt(fd, Interop.Sys.SOL_SOCKET, Interop.Sys.SO_PASSCRED, &one, sizeof(int)) != 0)
                throw Interop.Sys.GetIOException(Marshal.GetLastPInvokeError(), "SO_PASSCRED on " + path);

            // A socket file left by a process that did not exit cleanly would make bind fail with EADDRINUSE.
            if (!path.StartsWith('@')) TryUnlink(path);

            byte* address = stackalloc byte[Interop.Sys.SockAddrUnSize];
            uint length = UnixAddress.Write(path, address);
            if (Interop.Sys.Bind(fd, address, length) != 0)
                throw Interop.Sys.GetIOException(Marshal.GetLastPInvokeError(), "bind " + path);
            return new CredentialSocket(handle, path);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>
    /// A socket bound earlier, by this process before it replaced its image or by a previous daemon,
    /// and handed over (execve, or a service manager's descriptor store): made non-blocking and
    /// close-on-exec again, with credentials asked for as <see cref="Bind"/> does. Takes the handle.
    /// </summary>
    public static unsafe CredentialSocket Adopt(SafeFdHandle handle)
    {
        string path = BoundPath(handle);
        int one = 1;
        if (Interop.Sys.SetSockOpt(handle.Fd, Interop.Sys.SOL_SOCKET, Interop.Sys.SO_PASSCRED, &one, sizeof(int)) != 0)
            throw Interop.Sys.GetIOException(Marshal.GetLastPInvokeError(), "SO_PASSCRED on " + path);
        Descriptors.MakeNonBlocking(handle);
        Descriptors.SetCloseOnExec(handle, true);
        return new CredentialSocket(handle, path);
    }

    /// <summary>The address a socket is bound to, as <see cref="Bind"/> takes it ('@' for the abstract namespace).</summary>
    private static unsafe string BoundPath(SafeFdHandle handle)
    {
        byte* address = stackalloc byte[Interop.Sys.SockAddrUnSize];
        uint length = (uint)Interop.Sys.SockAddrUnSize;
        if (Interop.Sys.GetSockName(handle.Fd, address, &length) != 0)
            throw Interop.Sys.GetIOException(Marshal.GetLastPInvokeError(), "getsockname");
        int pathBytes = (int)length - Interop.Sys.SunPathOffset;
        if (pathBytes <= 0) throw new IOException("the inherited notify socket is not bound");
        var name = new ReadOnlySpan<byte>(address + Interop.Sys.SunPathOffset, pathBytes);
        if (name[0] == 0) return "@" + Encoding.UTF8.GetString(name[1..]);
        int nul = name.IndexOf((byte)0);
        return Encoding.UTF8.GetString(nul >= 0 ? name[..nul] : name);
    }

    /// <summary>One recvmsg(2) into <paramref name="buffer"/>, never blocking; retried on EINTR.</summary>
    public unsafe DatagramReceipt Receive(Span<byte> buffer)
    {
        // ulong: the control buffer must be aligned like a cmsghdr (to a size_t).
        ulong* controlWords = stackalloc ulong[(s_controlSize + 7) / 8];
        byte* control = (byte*)controlWords;
        bool added = false;
        try
        {
            Handle.DangerousAddRef(ref added);
        }
        catch (ObjectDisposedException)
        {
            return new DatagramReceipt(ReceiveStatus.Failed, 0, false, 0, "closed");
        }
        try
        {
            fixed (byte* data = buffer)
            {
                while (true)
                {
                    var iov = new Interop.Sys.IoVec { Base = data, Len = (nuint)buffer.Length };
                    var msg = new Interop.Sys.MsgHdr { Iov = &iov, IovLen = 1, Control = control, ControlLen = (nuint)s_controlSize };
                    new Span<byte>(control, s_controlSize).Clear();
                    nint n = Interop.Sys.RecvMsg(Handle.Fd, &msg, Interop.Sys.MSG_DONTWAIT);
                    if (n >= 0)
                        return new DatagramReceipt(ReceiveStatus.Datagram, (int)n, (msg.Flags & Interop.Sys.MSG_TRUNC) != 0, SenderPid(control, msg.ControlLen));
                    int errno = Marshal.GetLastPInvokeError();
                    if (errno == Interop.Sys.EINTR) continue;
                    if (errno == Interop.Sys.EAGAIN) return new DatagramReceipt(ReceiveStatus.Empty, 0, false, 0);
                    return new DatagramReceipt(ReceiveStatus.Failed, 0, false, 0, Interop.Sys.StrError(errno));
                }
            }
        }
        finally
        {
            if (added) Handle.DangerousRelease();
        }
    }

    /// <summary>The pid in the SCM_CREDENTIALS message, or 0 if there is none (or the sender is in another
    /// pid namespace, which the kernel reports as pid 0).</summary>
    private static unsafe int SenderPid(byte* control, nuint controlLength)
    {
        int headerSize = Interop.Sys.CMsgAlign(sizeof(Interop.Sys.CMsgHdr));
        nuint offset = 0;
        while (offset + (nuint)sizeof(Interop.Sys.CMsgHdr) <= controlLength)
        {
            var header = (Interop.Sys.CMsgHdr*)(control + offset);
            if (header->Len < (nuint)sizeof(Interop.Sys.CMsgHdr) || offset + header->Len > controlLength) break;
            if (header->Level == Interop.Sys.SOL_SOCKET && header->Type == Interop.Sys.SCM_CREDENTIALS
                && header->Len >= (nuint)(headerSize + sizeof(Interop.Sys.UCred)))
            {
                return ((Interop.Sys.UCred*)((byte*)header + headerSize))->Pid;
            }
            offset += (nuint)Interop.Sys.CMsgAlign((int)header->Len);
        }
        return 0;
    }

    /// <summary>Closes the socket (once no receive holds it) and removes its file.</summary>
    public void Dispose()
    {
        Handle.Dispose();
        if (!Path.StartsWith('@')) TryUnlink(Path);
    }

    private static void TryUnlink(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // bind reports the real problem if the file is still in the way.
        }
    }
}
