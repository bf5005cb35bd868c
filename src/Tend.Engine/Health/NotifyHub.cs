using System.Text;
using Microsoft.Extensions.Logging;
using Tend.Io;

namespace Tend.Health;

/// <summary>
/// The daemon's side of the systemd notify protocol (sd_notify(3)): one datagram socket per app
/// instance, handed to it as NOTIFY_SOCKET, on which it reports READY=1, STATUS=…, WATCHDOG=1 and
/// the rest. One hub per daemon.
/// </summary>
/// <remarks>
/// <para>Cost while idle: nothing of its own. Every endpoint's socket is one more descriptor in the
/// process's <see cref="EpollLoop"/>, beside the pidfds and the output pipes: a hundred instances are a
/// hundred sockets in one set, not a hundred threads or pending receives.</para>
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
/// <para>Callbacks (trustSender and onMessage) run on the loop thread, one at a time: they must be
/// quick and must not wait for anything that may be waiting to dispose an endpoint or the hub.
/// Exceptions from them are logged and swallowed.</para>
/// </remarks>
public sealed class NotifyHub : IDisposable
{
    /// <summary>The receive buffer, as in systemd: a notify message is at most PIPE_BUF bytes.</summary>
    internal const int MaxDatagram = 4096;

    // Level-triggered epoll brings us straight back to a socket that still has datagrams, so this cap only
    // stops one app that sends in a tight loop from starving every other endpoint.
    internal const int MaxDatagramsPerWakeup = 256;

    private readonly string _directory;
    private readonly ILogger _logger;
    private readonly EpollLoop _loop;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, NotifyEndpoint> _byName = new(StringComparer.Ordinal);
    private bool _disposed;

    /// <summary>A prefix for abstract names unique to this daemon's directory (two daemons never collide).</summary>
    private string AbstractPrefix => _abstractPrefix ??= Convert.ToHexStringLower(
        Tend.Hashing.Sha256.Hash(Encoding.UTF8.GetBytes(_directory)))[..12];
    private string? _abstractPrefix;

    /// <summary>Creates <paramref name="directory"/> (mode 0700) if it does not exist. Sockets are
    /// watched on <paramref name="loop"/>, the process's shared loop unless a test brings its own.</summary>
    public NotifyHub(string directory, ILogger logger) : this(directory, logger, EpollLoop.Shared)
    {
    }

    internal NotifyHub(string directory, ILogger logger, EpollLoop loop)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        ArgumentNullException.ThrowIfNull(logger);
        _directory = Path.GetFullPath(directory);
        _logger = logger;
        // 0700: whoever can reach these sockets can tell the daemon an app is ready or alive.
        if (!Directory.Exists(_directory))
            Directory.CreateDirectory(_directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

        _loop = loop;
    }

    /// <summary>
    /// Opens <c>&lt;directory&gt;/&lt;name&gt;.sock</c> (replacing a stale file of that name) and starts
    /// listening on it. Every datagram whose sender <paramref name="trustSender"/> accepts and that parses is
    /// passed to <paramref name="onMessage"/>, on the loop thread.
    /// </summary>
    /// <exception cref="ArgumentException">The name is empty or not a plain file name.</exception>
    /// <exception cref="PathTooLongException">The socket path does not fit in sockaddr_un.</exception>
    /// <exception cref="InvalidOperationException">An endpoint of that name is already registered.</exception>
    /// <exception cref="IOException">socket, bind or epoll_ctl failed.</exception>
    /// <param name="anyUser">The instance runs as another user, who cannot reach a socket inside TEND_HOME:
    /// bind in the abstract namespace instead ("@tend-…/name"), which has no file permissions. Who may
    /// send is still decided per datagram by <paramref name="trustSender"/> from its kernel-checked credentials.</param>
    public NotifyEndpoint Register(string name, Func<int, bool> trustSender, Action<NotifyMessage> onMessage, bool anyUser = false)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(trustSender);
        ArgumentNullException.ThrowIfNull(onMessage);
        if (name is "." or ".." || name.Contains('/') || name.Contains('\0'))
            throw new ArgumentException($"'{name}' is not a valid notify endpoint name (a file name without '/')", nameof(name));

        string path = anyUser ? $"@tend-{AbstractPrefix}/{name}" : System.IO.Path.Combine(_directory, name + ".sock");
        int pathBytes = Encoding.UTF8.GetByteCount(path);
        if (pathBytes > CredentialSocket.MaxPathBytes)
        {
            throw new PathTooLongException(
                $"notify socket path {path} is {pathBytes} bytes; a unix socket path holds at most {CredentialSocket.MaxPathBytes}. Use a shorter directory or name.");
        }

        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_byName.ContainsKey(name)) throw new InvalidOperationException($"notify endpoint '{name}' is already registered");
            return AddLocked(name, CredentialSocket.Bind(path), trustSender, onMessage);
        }
    }

    /// <summary>
    /// Takes over a notify socket the previous daemon bound (handed over, docs/upgrade.md): same path,
    /// so the app's NOTIFY_SOCKET keeps working. Takes the handle.
    /// </summary>
    public NotifyEndpoint Adopt(SafeFdHandle handle, Func<int, bool> trustSender, Action<NotifyMessage> onMessage)
    {
        CredentialSocket socket;
        try { socket = CredentialSocket.Adopt(handle); }
        catch { handle.Dispose(); throw; }
        string name = socket.Path[(socket.Path.LastIndexOf('/') + 1)..];
        if (name.EndsWith(".sock", StringComparison.Ordinal)) name = name[..^5];
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_byName.ContainsKey(name))
            {
                socket.Dispose();
                throw new InvalidOperationException($"notify endpoint '{name}' is already registered");
            }
            return AddLocked(name, socket, trustSender, onMessage);
        }
    }

    private NotifyEndpoint AddLocked(string name, CredentialSocket socket, Func<int, bool> trustSender, Action<NotifyMessage> onMessage)
    {
        string path = socket.Path;
        {
            var endpoint = new NotifyEndpoint(this, name, path, socket, trustSender, onMessage);
            try
            {
                endpoint.Registration = _loop.Watch(socket.Handle, EpollMode.Level, _ => endpoint.Drain(MaxDatagramsPerWakeup));
            }
            catch (IOException e)
            {
                socket.Dispose();
                throw new IOException($"epoll_ctl {path}: {e.Message}", e);
            }
            _byName[name] = endpoint;
            return endpoint;
        }
    }

    /// <summary>Disposes every endpoint (closing and unlinking their sockets) and refuses new ones. A
    /// callback already running on the loop thread is not waited for.</summary>
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
    }

    /// <summary>Called by <see cref="NotifyEndpoint.Dispose"/>: forget the endpoint, drop it from the loop,
    /// close the socket (once no callback reads it any more) and remove the socket file.</summary>
    internal void Remove(NotifyEndpoint endpoint)
    {
        lock (_gate)
        {
            if (_byName.TryGetValue(endpoint.Name, out var current) && current == endpoint) _byName.Remove(endpoint.Name);
            endpoint.Registration?.Dispose();
            endpoint.Socket.Dispose(); // closes it and removes its file
        }
    }

    internal ILogger Logger => _logger;
}
