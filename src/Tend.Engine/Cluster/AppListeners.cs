using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Tend.Config;
using Tend.Processes;
using Tend.Supervision;

namespace Tend.Cluster;

/// <summary>
/// The addresses of one app's listen: setting, held by the daemon for as long as the app exists,
/// so no connection is refused while instances restart or are replaced. In socket mode the
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

    private AppListeners(ListenMode mode) => Mode = mode;

    public ListenMode Mode { get; }

    /// <summary>Socket mode: what every instance gets as fds 3..; empty in proxy mode.</summary>
    public IReadOnlyList<ListenFd> Handles { get; private set; } = [];

    /// <summary>The bound addresses (ports resolved), for describe and tests.</summary>
    public IReadOnlyList<string> Bound { get; private set; } = [];

    /// <summary>Opens every address of <paramref name="spec"/>; all or none (a failure closes what was opened and throws).</summary>
    public static AppListeners? Open(AppSpec spec, ILogger logger)
    {
        if (spec.Listen.Count == 0) return null;
        var listeners = new AppListeners(spec.ListenMode);
        try
        {
            foreach (string text in spec.Listen)
            {
                ListenAddress address = ListenAddress.Parse(text);
                if (spec.ListenMode == ListenMode.Socket)
                {
                    listeners._sockets.Add(ListenSocket.Open(address, spec.Name));
                }
                else
                {
                    var endPoint = new IPEndPoint(address.Host ?? IPAddress.IPv6Any, address.Port);
                    var proxy = new TcpProxy(endPoint, logger);
                    listeners._proxies.Add(proxy);
                    proxy.Start();
                }
            }
        }
        catch (Exception ex) when (ex is ListenException or SocketException or ArgumentException)
        {
            listeners.Dispose();
            throw new ListenFailedException($"{spec.Name}: cannot listen on {string.Join(", ", spec.Listen)}: {ex.Message}", ex);
        }
        listeners.Handles = [.. listeners._sockets.Select(s => s.ToListenFd())];
        listeners.Bound = [.. listeners._sockets.Select(s => s.LocalEndPoint.ToString() ?? ""), .. listeners._proxies.Select(p => p.LocalEndPoint.ToString())];
        return listeners;
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

    /// <summary>Proxy mode: point the proxies at the instances that are ready and not draining.</summary>
    public void UpdateBackends(IReadOnlyList<Instance> instances)
    {
        if (_proxies.Count == 0) return;
        var backends = new List<ProxyBackend>();
        foreach (Instance i in instances)
        {
            if (i.ProxyPort is not int port || i.Draining) continue;
            var info = i.ToInfo();
            if (info.Status == "online" && info.Ready) backends.Add(new ProxyBackend(BackendName(i), new IPEndPoint(IPAddress.Loopback, port)));
        }
        lock (_gate)
        {
            if (_disposed) return;
            var key = backends.Select(b => b.Name).ToList();
            if (key.SequenceEqual(_backendKey)) return;
            _backendKey = key;
            foreach (TcpProxy proxy in _proxies) proxy.SetBackends(backends);
        }
    }

    /// <summary>Proxy mode: wait until no connection to <paramref name="instance"/> is open (it was taken out of the set first).</summary>
    public async Task DrainAsync(Instance instance, TimeSpan timeout)
    {
        if (_proxies.Count == 0) return;
        await Task.WhenAll(_proxies.Select(p => p.DrainAsync(BackendName(instance), timeout))).ConfigureAwait(false);
    }

    /// <summary>Unique per instance object: during a reload the old and the new #0 are both backends for a moment.</summary>
    public static string BackendName(Instance instance) => $"{instance.Label}/{instance.Id}";

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
        }
        foreach (ListenSocket socket in _sockets) socket.Dispose();
        foreach (TcpProxy proxy in _proxies) proxy.DisposeAsync().AsTask().GetAwaiter().GetResult();
    }
}

/// <summary>An app's listen: addresses could not be opened (in use, no permission); the CLI exits 2.</summary>
public sealed class ListenFailedException(string message, Exception inner) : Exception(message, inner);
