using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Extensions.Logging;

namespace Tend.Health;

/// <summary>
/// The daemon's side of the systemd notify protocol (sd_notify(3)): one datagram socket per app
/// instance, handed to it as NOTIFY_SOCKET, on which it reports READY=1, STATUS=…, WATCHDOG=1 and
/// the rest. One hub per daemon.
/// </summary>
/// <remarks>
/// <para>Cost while idle: one thread and one epoll set for all endpoints, the same design as the
/// pidfd <see cref="Processes.ChildWatcher"/>. A hundred instances are a hundred sockets in that set,
/// not a hundred threads or pending receives. epoll_ctl may be called from any thread while the hub
/// thread sits in epoll_wait, so registering needs no wake-up; disposing the hub writes one byte to a
/// pipe in the set. Events are keyed by a sequence number, never by descriptor, so a descriptor number
/// recycled after close cannot be mistaken for an old endpoint.</para>
/// <para>Who may talk: the sender's pid comes from SCM_CREDENTIALS, which the kernel fills in itself
/// because the socket has SO_PASSCRED (whatever the sender did), so it cannot be forged by a payload.
/// A pid of 0 means the sender lives in another pid namespace: no credentials, so dropped. Whether a
/// pid may speak for an instance is the <c>trustSender</c> callback's decision. Instances pass one
/// that accepts the main pid and any process whose process group is the main pid
/// (<see cref="Processes.ProcStat.ReadProcessGroup"/>): every child Tend starts leads its own group,
/// so this is systemd's NotifyAccess=all limited to what the instance itself started. A daemon that
/// double-forks into a new session leaves the group and must send MAINPID=… from the old main
/// process first, as with systemd's Type=notify.</para>
/// <para>What counts as a message: up to 4096 bytes (systemd's limit too; a longer datagram is truncated
/// by the kernel, MSG_TRUNC, and dropped as malformed), valid UTF-8 without NUL bytes, lines of
/// KEY=VALUE with KEY in [A-Z0-9_]+. Invalid lines are skipped; a datagram without a single valid line
/// is malformed. The control buffer has room for exactly one SCM_CREDENTIALS message, which the kernel
/// always writes first, so file descriptors a sender attaches (SCM_RIGHTS, e.g. FDSTORE=1) find no
/// room and are discarded by the kernel rather than installed in the daemon.</para>
/// <para>Callbacks (trustSender and onMessage) run on the hub thread, one at a time: they must be
/// quick and must not wait for anything that may be waiting to dispose an endpoint or the hub.
/// Exceptions from them are logged and swallowed.</para>
/// </remarks>
public sealed class NotifyHub : IDisposable
{
    /// <summary>The receive buffer, as in systemd: a notify message is at most PIPE_BUF bytes.</summary>
    internal const int MaxDatagram = 4096;

    // Level-triggered epoll brings us straight back to a socket that still has datagrams, so this cap only
    // stops one app that sends in a tight loop from starving every other endpoint.
    private const int MaxDatagramsPerWakeup = 256;
    private const ulong WakeId = 0;

    private readonly string _directory;
    private readonly ILogger _logger;
    private readonly SafeFdHandle _epoll;
    private readonly SafeFdHandle _wakeRead;
    private readonly SafeFdHandle _wakeWrite;
    private readonly Thread _thread;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, NotifyEndpoint> _byName = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<ulong, NotifyEndpoint> _byId = new();
    private ulong _nextId;
    private bool _disposed;

    /// <summary>Creates <paramref name="directory"/> (mode 0700) if it does not exist and starts the hub thread.</summary>
    public unsafe NotifyHub(string directory, ILogger logger)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        ArgumentNullException.ThrowIfNull(logger);
        _directory = Path.GetFullPath(directory);
        _logger = logger;
        // 0700: whoever can reach these sockets can tell the daemon an app is ready or alive.
        if (!Directory.Exists(_directory))
            Directory.CreateDirectory(_directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

        int epoll = Interop.Sys.EpollCreate1(Interop.Sys.EPOLL_CLOEXEC);
        if (epoll < 0) throw Interop.Sys.GetIOException(Marshal.GetLastPInvokeError(), "epoll_create1");
        _epoll = new SafeFdHandle(epoll);

        int* pipe = stackalloc int[2];
        if (Interop.Sys.Pipe2(pipe, Interop.Sys.O_CLOEXEC | Interop.Sys.O_NONBLOCK) != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            _epoll.Dispose();
            throw Interop.Sys.GetIOException(errno, "pipe2");
        }
        _wakeRead = new SafeFdHandle(pipe[0]);
        _wakeWrite = new SafeFdHandle(pipe[1]);
        int error = AddToEpoll(pipe[0], WakeId);
        if (error != 0)
        {
            _wakeRead.Dispose();
            _wakeWrite.Dispose();
            _epoll.Dispose();
            throw Interop.Sys.GetIOException(error, "epoll_ctl");
        }

        _thread = new Thread(Run) { IsBackground = true, Name = "Tend notify hub" };
        _thread.Start();
    }

    /// <summary>
    /// Opens <c>&lt;directory&gt;/&lt;name&gt;.sock</c> (replacing a stale file of that name) and starts
    /// listening on it. Every datagram whose sender <paramref name="trustSender"/> accepts and that parses is
    /// passed to <paramref name="onMessage"/>, on the hub thread.
    /// </summary>
    /// <exception cref="ArgumentException">The name is empty or not a plain file name.</exception>
    /// <exception cref="PathTooLongException">The socket path does not fit in sockaddr_un.</exception>
    /// <exception cref="InvalidOperationException">An endpoint of that name is already registered.</exception>
    /// <exception cref="IOException">socket, bind or epoll_ctl failed.</exception>
    public unsafe NotifyEndpoint Register(string name, Func<int, bool> trustSender, Action<NotifyMessage> onMessage)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(trustSender);
        ArgumentNullException.ThrowIfNull(onMessage);
        if (name is "." or ".." || name.Contains('/') || name.Contains('\0'))
            throw new ArgumentException($"'{name}' is not a valid notify endpoint name (a file name without '/')", nameof(name));

        string path = System.IO.Path.Combine(_directory, name + ".sock");
        int pathBytes = Encoding.UTF8.GetByteCount(path);
        if (pathBytes > Interop.Sys.SunPathMaxBytes)
        {
            throw new PathTooLongException(
                $"notify socket path {path} is {pathBytes} bytes; a unix socket path holds at most {Interop.Sys.SunPathMaxBytes}. Use a shorter directory or name.");
        }

        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_byName.ContainsKey(name)) throw new InvalidOperationException($"notify endpoint '{name}' is already registered");

            SafeFdHandle socket = OpenSocket(path, pathBytes);
            ulong id = ++_nextId;
            var endpoint = new NotifyEndpoint(this, id, name, path, socket, trustSender, onMessage);
            _byId[id] = endpoint;
            int error = AddToEpoll(socket.Fd, id);
            if (error != 0)
            {
                _byId.TryRemove(id, out _);
                socket.Dispose();
                TryUnlink(path);
                throw Interop.Sys.GetIOException(error, "epoll_ctl " + path);
            }
            _byName[name] = endpoint;
            return endpoint;
        }
    }

    /// <summary>Disposes every endpoint (closing and unlinking their sockets) and stops the hub thread.
    /// Waits for a callback in progress to return, unless called from one.</summary>
    public void Dispose()
    {
        NotifyEndpoint[] endpoints;
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            endpoints = [.. _byName.Values];
        }
        foreach (var endpoint in endpoints) endpoint.Dispose();

        // The hub thread closes the pipe and the epoll set on its way out; from a callback it leaves
        // once that callback returns.
        Wake();
        if (Thread.CurrentThread != _thread) _thread.Join();
    }

    /// <summary>Called by <see cref="NotifyEndpoint.Dispose"/>: forget the endpoint, drop it from the set,
    /// close the socket (once the hub thread no longer reads it) and remove the socket file.</summary>
    internal unsafe void Remove(NotifyEndpoint endpoint)
    {
        lock (_gate)
        {
            _byId.TryRemove(endpoint.Id, out _);
            if (_byName.TryGetValue(endpoint.Name, out var current) && current == endpoint) _byName.Remove(endpoint.Name);
            StopWatching(endpoint);
            endpoint.Socket.Dispose();
            TryUnlink(endpoint.Path);
        }
    }

    /// <summary>EPOLL_CTL_DEL, tolerating a socket or an epoll set that is already closed.</summary>
    internal unsafe void StopWatching(NotifyEndpoint endpoint)
    {
        bool epollAdded = false, socketAdded = false;
        try
        {
            _epoll.DangerousAddRef(ref epollAdded);
            endpoint.Socket.DangerousAddRef(ref socketAdded);
            Interop.Sys.EpollCtl(_epoll.Fd, Interop.Sys.EPOLL_CTL_DEL, endpoint.Socket.Fd, null);
        }
        catch (ObjectDisposedException)
        {
            // Closing the last descriptor of a socket removes it from every epoll set anyway.
        }
        finally
        {
            if (socketAdded) endpoint.Socket.DangerousRelease();
            if (epollAdded) _epoll.DangerousRelease();
        }
    }

    internal ILogger Logger => _logger;

    private static unsafe SafeFdHandle OpenSocket(string path, int pathBytes)
    {
        int fd = Interop.Sys.Socket(Interop.Sys.AF_UNIX, Interop.Sys.SOCK_DGRAM | Interop.Sys.SOCK_NONBLOCK | Interop.Sys.SOCK_CLOEXEC, 0);
        if (fd < 0) throw Interop.Sys.GetIOException(Marshal.GetLastPInvokeError(), "socket for " + path);
        var socket = new SafeFdHandle(fd);
        try
        {
            // Before bind: a datagram can only arrive once the path exists, and every one of them
            // must carry credentials.
            int one = 1;
            if (Interop.Sys.SetSockOpt(fd, Interop.Sys.SOL_SOCKET, Interop.Sys.SO_PASSCRED, &one, sizeof(int)) != 0)
                throw Interop.Sys.GetIOException(Marshal.GetLastPInvokeError(), "SO_PASSCRED on " + path);

            // A socket file left by a daemon that did not exit cleanly would make bind fail with EADDRINUSE.
            TryUnlink(path);

            byte* address = stackalloc byte[Interop.Sys.SockAddrUnSize];
            new Span<byte>(address, Interop.Sys.SockAddrUnSize).Clear();
            *(ushort*)address = Interop.Sys.AF_UNIX;
            Encoding.UTF8.GetBytes(path, new Span<byte>(address + Interop.Sys.SunPathOffset, pathBytes));
            uint length = (uint)(Interop.Sys.SunPathOffset + pathBytes + 1);
            if (Interop.Sys.Bind(fd, address, length) != 0)
                throw Interop.Sys.GetIOException(Marshal.GetLastPInvokeError(), "bind " + path);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
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

    /// <summary>0, or the errno of a failed EPOLL_CTL_ADD.</summary>
    private unsafe int AddToEpoll(int fd, ulong id)
    {
        byte* ev = stackalloc byte[16];
        *(uint*)ev = Interop.Sys.EPOLLIN;
        *(ulong*)(ev + Interop.Sys.EpollEventDataOffset) = id;
        bool added = false;
        _epoll.DangerousAddRef(ref added);
        try
        {
            return Interop.Sys.EpollCtl(_epoll.Fd, Interop.Sys.EPOLL_CTL_ADD, fd, ev) == 0 ? 0 : Marshal.GetLastPInvokeError();
        }
        finally
        {
            if (added) _epoll.DangerousRelease();
        }
    }

    private unsafe void Wake()
    {
        byte one = 1;
        bool added = false;
        try
        {
            _wakeWrite.DangerousAddRef(ref added);
            // Nothing ever reads the pipe: the hub thread exits on the first byte. A full pipe (EAGAIN)
            // is impossible with one write, and any other failure leaves nothing better to do.
            _ = Interop.Sys.Write(_wakeWrite.Fd, &one, 1);
        }
        catch (ObjectDisposedException)
        {
            // The hub thread is gone already (epoll_wait failed) and has closed the pipe.
        }
        finally
        {
            if (added) _wakeWrite.DangerousRelease();
        }
    }

    private unsafe void Run()
    {
        const int MaxEvents = 64;
        int size = Interop.Sys.EpollEventSize;
        byte* events = stackalloc byte[MaxEvents * 16];
        byte* buffer = stackalloc byte[MaxDatagram];
        // ulong: the control buffer must be aligned like a cmsghdr (to a size_t).
        ulong* control = stackalloc ulong[(NotifyEndpoint.ControlSize + 7) / 8];

        bool added = false;
        _epoll.DangerousAddRef(ref added);
        try
        {
            while (true)
            {
                int n = Interop.Sys.EpollWait(_epoll.Fd, events, MaxEvents, -1);
                if (n < 0)
                {
                    int errno = Marshal.GetLastPInvokeError();
                    if (errno == Interop.Sys.EINTR) continue;
                    // Only EBADF/EFAULT/EINVAL are possible, all programming errors. Unlike the child
                    // watcher, losing notify messages is not worth taking the daemon down for.
                    HealthLog.WaitFailed(_logger, Interop.Sys.StrError(errno));
                    return;
                }
                for (int i = 0; i < n; i++)
                {
                    ulong id = *(ulong*)(events + (i * size) + Interop.Sys.EpollEventDataOffset);
                    if (id == WakeId) return;
                    if (_byId.TryGetValue(id, out var endpoint))
                        endpoint.Drain(buffer, (byte*)control, MaxDatagramsPerWakeup);
                }
            }
        }
        finally
        {
            if (added) _epoll.DangerousRelease();
            _wakeRead.Dispose();
            _wakeWrite.Dispose();
            _epoll.Dispose();
        }
    }
}
