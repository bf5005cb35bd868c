using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace Tend.Io;

/// <summary>
/// The notify socket of whoever manages this process (sd_notify(3)): systemd for a Type=notify unit,
/// or anything else that sets NOTIFY_SOCKET. This is the sending side, Tend's daemon speaking to its
/// own service manager (READY=1, STOPPING=1, WATCHDOG=1, STATUS=…), and storing descriptors with it
/// (FDSTORE=1 with SCM_RIGHTS), so that they outlive a crash of the daemon. The receiving side, for
/// the apps Tend runs, is <see cref="CredentialSocket"/>.
/// </summary>
/// <remarks>
/// Microsoft.Extensions.Hosting.Systemd's SystemdNotifier sends text only, and only when it believes
/// systemd is the parent; FDSTORE needs the descriptors attached to the datagram, and a test (or any
/// supervisor of Tend) that sets NOTIFY_SOCKET must be heard too. One datagram per message, sent with
/// sendmsg(2) on an unconnected socket, as sd_pid_notify_with_fds does.
/// </remarks>
public sealed class ServiceManagerSocket : IDisposable
{
    /// <summary>systemd refuses more than this many descriptors in one message (SCM_MAX_FD is 253).</summary>
    public const int MaxFdsPerMessage = 250;

    private readonly SafeFdHandle _socket;

    private ServiceManagerSocket(SafeFdHandle socket, string path)
    {
        _socket = socket;
        Path = path;
    }

    public string Path { get; }

    /// <summary>The socket NOTIFY_SOCKET names (a path, or '@' for the abstract namespace); null when it is unset or names neither.</summary>
    public static ServiceManagerSocket? FromEnvironment(Func<string, string?> env)
    {
        string? path = env("NOTIFY_SOCKET");
        if (string.IsNullOrEmpty(path) || (path[0] != '/' && path[0] != '@')) return null;
        int fd = Interop.Sys.Socket(Interop.Sys.AF_UNIX, Interop.Sys.SOCK_DGRAM | Interop.Sys.SOCK_CLOEXEC, 0);
        if (fd < 0) return null;
        return new ServiceManagerSocket(new SafeFdHandle(fd), path);
    }

    /// <summary>
    /// The watchdog interval the manager expects pings within (WATCHDOG_USEC), when it is meant for this
    /// process (WATCHDOG_PID unset or ours); null when there is no watchdog.
    /// </summary>
    public static TimeSpan? WatchdogInterval(Func<string, string?> env, int ownPid)
    {
        if (!long.TryParse(env("WATCHDOG_USEC"), NumberStyles.None, CultureInfo.InvariantCulture, out long usec) || usec <= 0) return null;
        if (env("WATCHDOG_PID") is { Length: > 0 } forPid
            && (!int.TryParse(forPid, NumberStyles.None, CultureInfo.InvariantCulture, out int pid) || pid != ownPid)) return null;
        return TimeSpan.FromMicroseconds(usec);
    }

    /// <summary>Sends one message (lines of KEY=VALUE), with <paramref name="fds"/> attached when given. Null on success, else why not.</summary>
    public unsafe string? Send(string message, IReadOnlyList<SafeHandle>? fds = null)
    {
        int fdCount = fds?.Count ?? 0;
        if (fdCount > MaxFdsPerMessage) return $"at most {MaxFdsPerMessage} descriptors per message";
        byte[] payload = Encoding.UTF8.GetBytes(message);
        int headerSize = Interop.Sys.CMsgAlign(sizeof(Interop.Sys.CMsgHdr));
        int controlSize = fdCount > 0 ? Interop.Sys.CMsgSpace(fdCount * sizeof(int)) : 0;
        ulong* controlWords = stackalloc ulong[(controlSize + 7) / 8 + 1];
        byte* control = (byte*)controlWords;
        var added = new bool[fdCount];
        try
        {
            if (fdCount > 0)
            {
                new Span<byte>(control, controlSize).Clear();
                var header = (Interop.Sys.CMsgHdr*)control;
                header->Len = (nuint)(headerSize + fdCount * sizeof(int));
                header->Level = Interop.Sys.SOL_SOCKET;
                header->Type = Interop.Sys.SCM_RIGHTS;
                int* numbers = (int*)(control + headerSize);
                for (int i = 0; i < fdCount; i++)
                {
                    fds![i].DangerousAddRef(ref added[i]);
                    numbers[i] = (int)fds[i].DangerousGetHandle();
                }
            }
            byte* address = stackalloc byte[Interop.Sys.SockAddrUnSize];
            uint addressLength = UnixAddress.Write(Path, address);
            fixed (byte* data = payload)
            {
                var iov = new Interop.Sys.IoVec { Base = data, Len = (nuint)payload.Length };
                var msg = new Interop.Sys.MsgHdr
                {
                    Name = address,
                    NameLen = addressLength,
                    Iov = &iov,
                    IovLen = 1,
                    Control = fdCount > 0 ? control : null,
                    ControlLen = (nuint)controlSize,
                };
                while (true)
                {
                    if (Interop.Sys.SendMsg(_socket.Fd, &msg, Interop.Sys.MSG_NOSIGNAL) >= 0) return null;
                    int errno = Marshal.GetLastPInvokeError();
                    if (errno != Interop.Sys.EINTR) return Interop.Sys.StrError(errno);
                }
            }
        }
        catch (Exception e) when (e is ObjectDisposedException or PathTooLongException)
        {
            return e.Message;
        }
        finally
        {
            for (int i = 0; i < fdCount; i++) if (added[i]) fds![i].DangerousRelease();
        }
    }

    public void Dispose() => _socket.Dispose();
}
