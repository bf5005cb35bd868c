using System.Runtime.InteropServices;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Tend.Config;
using Tend.Processes;

namespace Tend.Cluster;

/// <summary>
/// The addresses of one app's listen: setting, held by the daemon while the app is meant to run,
/// so no connection is refused while instances restart or are replaced. When the user stops every
/// instance (`tend stop`), the sockets are closed (<see cref="Close"/>) so that clients are refused
/// at once instead of waiting in a backlog nobody accepts from; the next start reopens them on the
/// same ports (<see cref="EnsureOpen"/>). In socket mode the
/// listening sockets go to every instance as fds 3.. (socket activation) and the kernel spreads
/// connections over whoever accepts. In proxy mode one <see cref="TcpProxy"/> per address
/// forwards each connection to a ready instance's own loopback port; an instance that is not
/// ready, stopping or being replaced (draining) gets no new connection.
/// </summary>
internal sealed class AppListeners : IDisposable
{
    private readonly List<ListenSocket> _sockets = [];
    private readonly List<TcpProxy> _proxies = [];
    private readonly Lock _gate = new();
    private IReadOnlyList<string> _backendKey = [];
    private bool _disposed;
    private bool _closed;
    private AppSpec _spec = null!;
    private ILogger _logger = null!;
    private IReadOnlyList<ListenAddress> _addresses = [];

    private AppListeners(ListenMode mode) => Mode = mode;

    /// <summary>Closed because the app is stopped (see <see cref="Close"/>).</summary>
    public bool IsClosed { get { lock (_gate) return _closed; } }

    public ListenMode Mode { get; }

    /// <summary>Socket mode: what every instance gets as fds 3..; empty in proxy mode.</summary>
    public IReadOnlyList<ListenFd> Handles { get; private set; } = [];

    /// <summary>The bound addresses (ports resolved), for describe and tests.</summary>
    public IReadOnlyList<string> Bound { get; private set; } = [];

    /// <summary>Opens every address of <paramref name="spec"/>; all or none (a failure closes what was opened and throws).</summary>
    /// <param name="inherited">Sockets the previous daemon handed over, by <see cref="HandOverName"/>: adopted instead of bound.</param>
    public static AppListeners? Open(AppSpec spec, ILogger logger, Func<string, SafeHandle?>? inherited = null)
    {
        if (spec.Listen.Count == 0) return null;
        var listeners = new AppListeners(spec.ListenMode) { _spec = spec, _logger = logger, _inherited = inherited };
        listeners.OpenAll([.. spec.Listen.Select(ListenAddress.Parse)]);
        listeners._inherited = null; // a later reopen binds afresh
        return listeners;
    }

    private Func<string, SafeHandle?>? _inherited;

    /// <summary>The name the k-th socket of an app is handed to the next daemon under.</summary>
    public static string HandOverName(string app, int k) => $"listen.{app}.{k}";

    /// <summary>The listening sockets to hand to the next daemon, by name (socket mode's and proxy mode's alike).</summary>
    public IReadOnlyList<(string Name, SafeHandle Handle)> HandOverHandles()
    {
        lock (_gate)
        {
            return [.. _sockets.Select((s, k) => (HandOverName(_spec.Name, k), s.Handle)),
                .. _proxies.Select((p, k) => (HandOverName(_spec.Name, k), p.ListenerHandle)).Where(p => p.ListenerHandle is not null).Select(p => (p.Item1, p.ListenerHandle!))];
        }
    }

    /// <summary>Binds every address, all or none; records the ports really bound (port 0) for a reopen.</summary>
    private void OpenAll(IReadOnlyList<ListenAddress> addresses)
    {
        try
        {
            foreach (ListenAddress address in addresses)
            {
                if (_spec.ListenMode == ListenMode.Socket)
                {
                    _sockets.Add(_inherited?.Invoke(HandOverName(_spec.Name, _sockets.Count)) is { } handed
                        ? ListenSocket.Adopt(handed, address, _spec.Name)
                        : ListenSocket.Open(address, _spec.Name));
                }
                else
                {
                    var endPoint = new IPEndPoint(address.Host ?? IPAddress.IPv6Any, address.Port);
                    var proxy = new TcpProxy(endPoint, _logger);
                    Socket? handed = _inherited?.Invoke(HandOverName(_spec.Name, _proxies.Count)) is { } h ? ListenSocket.AdoptSocket(h) : null;
                    _proxies.Add(proxy);
                    proxy.Start(handed);
                }
            }
        }
        catch (Exception ex) when (ex is ListenException or SocketException or ArgumentException)
        {
            CloseAll();
            throw new ListenFailedException($"{_spec.Name}: cannot listen on {string.Join(", ", _spec.Listen)}: {ex.Message}", ex);
        }
        Handles = [.. _sockets.Select(s => s.ToListenFd())];
        Bound = [.. _sockets.Select(s => s.LocalEndPoint.ToString() ?? ""), .. _proxies.Select(p => p.LocalEndPoint.ToString())];
        var ports = new Queue<int>([.. _sockets.Select(s => s.Port), .. _proxies.Select(p => p.LocalEndPoint.Port)]);
        _addresses = [.. addresses.Select(a => a.Kind == ListenKind.Tcp ? a with { Port = ports.Dequeue() } : Skip(a, ports))];
    }

    private static ListenAddress Skip(ListenAddress unix, Queue<int> ports)
    {
        ports.Dequeue();
        return unix;
    }

    private void CloseAll()
    {
        foreach (ListenSocket socket in _sockets) socket.Dispose();
        foreach (TcpProxy proxy in _proxies) proxy.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _sockets.Clear();
        _proxies.Clear();
        Handles = [];
        _backendKey = [];
    }

    /// <summary>
    /// The app is stopped: close the sockets, so a client is refused at once rather than left
    /// waiting in a backlog that nobody will accept from. (During restarts and reloads they stay
    /// open: holding clients across a hand-over is their point.)
    /// </summary>
    public void Close()
    {
        lock (_gate)
        {
            if (_disposed || _closed) return;
            _closed = true;
            CloseAll();
        }
    }

    /// <summary>Reopen after <see cref="Close"/>, on the same ports. Throws <see cref="ListenFailedException"/>
    /// when an address was taken meanwhile.</summary>
    public void EnsureOpen()
    {
        lock (_gate)
        {
            if (_disposed || !_closed) return;
            OpenAll(_addresses);
            _closed = false;
        }
    }

    /// <summary>Proxy mode: a free loopback port for a new instance (its PORT); null in socket mode.</summary>
    public int? AllocateBackendPort()
    {
        if (Mode != ListenMode.Proxy) return null;
        // Bind port 0 and give it back: the kernel hands out ephemeral ports round the range, so it
        // is not handed out again soon; the instance binds it a moment later.
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)probe.LocalEndPoint!).Port;
    }

    /// <summary>Proxy mode: connections forwarded to an instance and connections failed (no backend in time), over every proxy.</summary>
    public (long Forwarded, long Failed)? ProxyCounts
    {
        get
        {
            lock (_gate)
            {
                if (_proxies.Count == 0) return null;
                long forwarded = 0, failed = 0;
                foreach (TcpProxy proxy in _proxies) { forwarded += proxy.Forwarded; failed += proxy.Failed; }
                return (forwarded, failed);
            }
        }
    }

    /// <summary>Proxy mode: point the proxies at these backends (the instances that are ready and not draining).</summary>
    public void UpdateBackends(IReadOnlyList<ProxyBackend> backends)
    {
        if (_proxies.Count == 0) return;
        lock (_gate)
        {
            if (_disposed) return;
            var key = backends.Select(b => b.Name).ToList();
            if (key.SequenceEqual(_backendKey)) return;
            _backendKey = key;
            foreach (TcpProxy proxy in _proxies) proxy.SetBackends(backends);
        }
    }

    /// <summary>Proxy mode: wait until no connection to the backend <paramref name="name"/> is open (it was taken out of the set first).</summary>
    public async Task DrainAsync(string name, TimeSpan timeout)
    {
        if (_proxies.Count == 0) return;
        await Task.WhenAll(_proxies.Select(p => p.DrainAsync(name, timeout))).ConfigureAwait(false);
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
        }
        lock (_gate) CloseAll();
    }
}

/// <summary>An app's listen: addresses could not be opened (in use, no permission); the CLI exits 2.</summary>
public sealed class ListenFailedException(string message, Exception inner) : Exception(message, inner);
