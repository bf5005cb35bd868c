using System.Runtime.InteropServices;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Tend.Io;

namespace Tend.Cluster;

// `listen_mode: proxy`: the daemon owns the public port and forwards each connection to one ready
// instance on the instance's own port. What the design has to get right:
//
// * Never a new connection to a backend that is leaving. The backend set is an immutable array swapped
//   atomically by SetBackends; a connection picks from the snapshot it read. The race that matters is a
//   connection that read the old snapshot just before the integrator removed backend B and called
//   DrainAsync(B): it would connect to B after the drain saw zero connections, and B would be stopped
//   under it. So a connection counts itself against B *before* connecting, and then re-reads the current
//   set: if B is gone it backs off. SetBackends publishes (interlocked) before DrainAsync reads the
//   count; a connection increments (interlocked) before it reads the set. With full fences on both sides
//   at least one of them sees the other (the Dekker pattern): either DrainAsync waits for it, or it
//   backs off.
// * No refused client while the only instance restarts: an accepted client with nowhere to go is held
//   (its bytes wait in the kernel's receive buffer) until SetBackends announces a new set or
//   BackendWait passes. Each set carries a TaskCompletionSource completed when it is replaced, which is
//   what a held client awaits; there is no polling.
// * Forwarding stays in the kernel: a SocketRelay splices each direction through a pipe, driven by one
//   epoll thread that every proxied connection of the daemon shares ("Tend proxy"), so there is no copy
//   into user space, no buffer, task or thread pool hop per request, and an idle keep-alive connection
//   costs two pipes. End of stream on one side is passed on as shutdown(SHUT_WR) on the other
//   (half-close); an error on either side aborts both with RST, so a truncated response is never
//   mistaken for a complete one.
public sealed class TcpProxy : IAsyncDisposable
{
    // Their own loops, not EpollLoop.Shared: a proxy under load must not delay child exits, notify
    // datagrams and log pipes. One per core, so relaying is not held to one core; a connection stays on
    // the loop it was given. Started with the first proxied connection; idle, they only sleep in epoll_wait.
    private static readonly Lazy<EpollLoop[]> s_relayLoops = new(
        () => [.. Enumerable.Range(0, Math.Clamp(Environment.ProcessorCount, 1, 4)).Select(i => new EpollLoop($"Tend proxy {i}"))],
        LazyThreadSafetyMode.ExecutionAndPublication);
    private static int s_nextLoop;

    private static EpollLoop NextRelayLoop()
    {
        EpollLoop[] loops = s_relayLoops.Value;
        return loops[(uint)Interlocked.Increment(ref s_nextLoop) % (uint)loops.Length];
    }

    private readonly IPEndPoint _listen;
    private readonly ILogger _logger;
    private readonly TcpProxyOptions _options;
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _stopping = new();
    // Never pruned: instance names are reused across restarts and scaling (dense numbers), so this stays
    // as small as the largest set an app has had.
    private readonly ConcurrentDictionary<string, ActiveCount> _perBackend = new(StringComparer.Ordinal);
    private readonly ActiveCount _open = new();
    private BackendSet _set = new([]);
    private Socket? _listener;
    private IPEndPoint? _localEndPoint;
    private Task _accepting = Task.CompletedTask;
    private int _next;
    private long _accepted;
    private long _forwarded;
    private long _failed;
    private int _state; // 0 created, 1 started, 2 disposed

    public TcpProxy(IPEndPoint listen, ILogger logger, TcpProxyOptions? options = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(listen);
        ArgumentNullException.ThrowIfNull(logger);
        _options = options ?? new TcpProxyOptions();
        _options.Validate();
        _listen = listen;
        _logger = logger;
        _time = timeProvider ?? TimeProvider.System;
    }

    /// <summary>The bound address (the real port when the proxy was asked for port 0). Valid after <see cref="Start"/>.</summary>
    public IPEndPoint LocalEndPoint => _localEndPoint ?? throw new InvalidOperationException("the proxy has not been started");

    /// <summary>The current backend set, in round-robin order.</summary>
    public IReadOnlyList<ProxyBackend> Backends => Volatile.Read(ref _set).Backends;

    /// <summary>Connections accepted on the public port.</summary>
    public long Accepted => Interlocked.Read(ref _accepted);

    /// <summary>Connections that reached a backend and were forwarded.</summary>
    public long Forwarded => Interlocked.Read(ref _forwarded);

    /// <summary>Clients closed because no backend could take them within <see cref="TcpProxyOptions.BackendWait"/>.</summary>
    public long Failed => Interlocked.Read(ref _failed);

    /// <summary>
    /// Open connections per backend name: every backend of the current set (0 when idle) and any removed
    /// backend that still has connections (one being drained).
    /// </summary>
    public IReadOnlyDictionary<string, int> ActiveConnections
    {
        get
        {
            var result = new Dictionary<string, int>(StringComparer.Ordinal);
            foreach (ProxyBackend backend in Volatile.Read(ref _set).Backends) result[backend.Name] = 0;
            foreach ((string name, ActiveCount count) in _perBackend)
            {
                int value = count.Value;
                if (value > 0 || result.ContainsKey(name)) result[name] = value;
            }
            return result;
        }
    }

    /// <summary>The listening socket, once started: what an upgrade hands to the next daemon.</summary>
    public SafeHandle? ListenerHandle => _listener?.SafeHandle;

    private Socket Bind()
    {
        var listener = new Socket(_listen.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            // A daemon restarted right after its predecessor must be able to bind while old connections
            // sit in TIME_WAIT; on Linux this does not let two sockets listen on the same port.
            listener.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            if (_listen.Address.Equals(IPAddress.IPv6Any)) listener.DualMode = true;
            listener.Bind(_listen);
            listener.Listen(_options.Backlog);
            return listener;
        }
        catch
        {
            listener.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Binds and listens (bind errors are thrown from here), then accepts in the background. With
    /// <paramref name="adopted"/>, the listening socket the previous daemon handed over is used as it is.
    /// </summary>
    public void Start(Socket? adopted = null)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _state) == 2, this);
        if (Interlocked.CompareExchange(ref _state, 1, 0) != 0) throw new InvalidOperationException("the proxy is already started");

        Socket listener;
        try
        {
            listener = adopted ?? Bind();
        }
        catch
        {
            Volatile.Write(ref _state, 0);
            throw;
        }

        _listener = listener;
        _localEndPoint = (IPEndPoint)listener.LocalEndPoint!;
        ProxyLog.Listening(_logger, _localEndPoint);
        _accepting = AcceptLoopAsync(listener, _stopping.Token);
    }

    /// <summary>
    /// Replaces the backend set atomically. New connections pick from the new set only; connections
    /// already open to a removed backend are left alone (see <see cref="DrainAsync"/>). Clients held
    /// because no backend could take them try the new set at once.
    /// </summary>
    /// <exception cref="ArgumentException">A backend is null or a name appears twice.</exception>
    public void SetBackends(IReadOnlyList<ProxyBackend> backends)
    {
        ArgumentNullException.ThrowIfNull(backends);
        var copy = new ProxyBackend[backends.Count];
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < copy.Length; i++)
        {
            ProxyBackend backend = backends[i] ?? throw new ArgumentException($"backend {i} is null", nameof(backends));
            if (backend.Name is null || backend.EndPoint is null) throw new ArgumentException($"backend {i} has no name or no endpoint", nameof(backends));
            if (!names.Add(backend.Name)) throw new ArgumentException($"backend name '{backend.Name}' appears twice", nameof(backends));
            copy[i] = backend;
        }

        BackendSet old = Interlocked.Exchange(ref _set, new BackendSet(copy));
        old.Replaced.TrySetResult();
    }

    /// <summary>
    /// Waits until no connection to <paramref name="backendName"/> is open (connects in progress
    /// included). Remove the backend with <see cref="SetBackends"/> first, or new connections keep
    /// arriving. Returns true when drained, false when <paramref name="timeout"/> passed first; the
    /// connections still open are left to the caller (stopping the instance ends them).
    /// </summary>
    public async Task<bool> DrainAsync(string backendName, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(backendName);
        if (!_perBackend.TryGetValue(backendName, out ActiveCount? count)) return true;

        long started = _time.GetTimestamp();
        while (count.Value > 0)
        {
            if (timeout == Timeout.InfiniteTimeSpan)
            {
                await count.WhenIdle().WaitAsync(cancellationToken).ConfigureAwait(false);
                continue;
            }

            TimeSpan left = timeout - _time.GetElapsedTime(started);
            if (left <= TimeSpan.Zero) return false;
            try
            {
                await count.WhenIdle().WaitAsync(left, _time, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                return count.Value == 0;
            }
        }
        return true;
    }

    /// <summary>
    /// Stops accepting (the listener is closed, so new connects are refused) and aborts every open
    /// connection at once, held clients included. No grace period here: a graceful hand-over is the
    /// integrator's job (remove, drain, stop, per instance); disposal is for the app going away or the
    /// daemon stopping, when the backends are going away too.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _state, 2) == 2) return;

        await _stopping.CancelAsync().ConfigureAwait(false);
        _listener?.Dispose();
        await _accepting.ConfigureAwait(false);

        // Every connection observes _stopping (connect, hold and both copy loops), so this is short.
        int open = _open.Value;
        while (_open.Value > 0) await _open.WhenIdle().ConfigureAwait(false);

        if (_localEndPoint is not null) ProxyLog.Stopped(_logger, _localEndPoint, open);
        _stopping.Dispose();
    }

    private async Task AcceptLoopAsync(Socket listener, CancellationToken ct)
    {
        EndPoint listen = listener.LocalEndPoint!;
        while (!ct.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await listener.AcceptAsync(ct).ConfigureAwait(false);
            }
            catch (Exception e) when (ct.IsCancellationRequested && e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }
            catch (SocketException e)
            {
                ProxyLog.AcceptFailed(_logger, listen, e.Message);
                // ECONNABORTED: one client gave up while queued, the next is fine. Anything else (EMFILE,
                // ENFILE, ENOBUFS) will fail again at once: pause so a full fd table does not spin a core.
                if (e.SocketErrorCode is SocketError.ConnectionAborted or SocketError.ConnectionReset) continue;
                try
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(100), _time, ct).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                continue;
            }

            // The timestamp is taken before the count moves, so whoever sees Accepted grow knows the
            // client's BackendWait has already started.
            long acceptedAt = _time.GetTimestamp();
            Interlocked.Increment(ref _accepted);
            _open.Enter();
            _ = HandleAsync(client, listen, acceptedAt, ct);
        }
    }

    private async Task HandleAsync(Socket client, EndPoint listen, long acceptedAt, CancellationToken ct)
    {
        // Off the accept loop at once: a connect that completes synchronously must not delay the next accept.
        await Task.Yield();
        try
        {
            SetNoDelay(client);
            Connected? connected = await ConnectAnyAsync(listen, acceptedAt, ct).ConfigureAwait(false);
            if (connected is not { } backend)
            {
                Interlocked.Increment(ref _failed);
                ProxyLog.NoBackend(_logger, listen, RemoteEndPointOf(client), _options.BackendWait);
                Abort(client);
                return;
            }

            Interlocked.Increment(ref _forwarded);
            try
            {
                await ForwardAsync(client, backend.Socket, ct).ConfigureAwait(false);
            }
            finally
            {
                backend.Socket.Dispose();
                backend.Count.Exit();
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            Abort(client);
        }
        catch (Exception e)
        {
            ProxyLog.ConnectionFailed(_logger, e, listen);
            Abort(client);
        }
        finally
        {
            client.Dispose();
            _open.Exit();
        }
    }

    /// <summary>
    /// Round robin over the current set, each backend at most once per round; when a round finds no
    /// backend, waits for the set to be replaced and tries again, until BackendWait (from the accept) is
    /// over. Null: give up. On success the connection is already counted against its backend.
    /// </summary>
    private async Task<Connected?> ConnectAnyAsync(EndPoint listen, long acceptedAt, CancellationToken ct)
    {
        while (true)
        {
            BackendSet set = Volatile.Read(ref _set);
            ProxyBackend[] backends = set.Backends;
            if (backends.Length > 0)
            {
                int attempts = _options.MaxConnectAttempts == 0 ? backends.Length : Math.Min(_options.MaxConnectAttempts, backends.Length);
                uint start = (uint)(Interlocked.Increment(ref _next) - 1);
                for (int i = 0; i < attempts; i++)
                {
                    ProxyBackend backend = backends[(start + (uint)i) % (uint)backends.Length];
                    ActiveCount count = _perBackend.GetOrAdd(backend.Name, static _ => new ActiveCount());
                    count.Enter();
                    // Count first, then look at the set again (see the top of the file): a backend removed
                    // since this round began is not connected to.
                    Interlocked.MemoryBarrier();
                    if (!Volatile.Read(ref _set).Contains(backend))
                    {
                        count.Exit();
                        continue;
                    }

                    Socket? socket = await TryConnectAsync(listen, backend, ct).ConfigureAwait(false);
                    if (socket is not null) return new Connected(socket, count);
                    count.Exit();
                }
            }

            TimeSpan left = _options.BackendWait - _time.GetElapsedTime(acceptedAt);
            if (left <= TimeSpan.Zero) return null;
            if (ReferenceEquals(set, Volatile.Read(ref _set)))
            {
                try
                {
                    await set.Replaced.Task.WaitAsync(left, _time, ct).ConfigureAwait(false);
                }
                catch (TimeoutException)
                {
                    return null;
                }
            }
        }
    }

    private async Task<Socket?> TryConnectAsync(EndPoint listen, ProxyBackend backend, CancellationToken ct)
    {
        var socket = new Socket(backend.EndPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        using var timeout = new CancellationTokenSource(_options.ConnectTimeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, timeout.Token);
        try
        {
            await SocketConnect.ConnectAsync(NextRelayLoop(), socket, backend.EndPoint, linked.Token).ConfigureAwait(false);
            SetNoDelay(socket);
            return socket;
        }
        catch (Exception e) when (!ct.IsCancellationRequested && e is SocketException or OperationCanceledException)
        {
            socket.Dispose();
            string error = e is SocketException se ? se.Message : $"no answer within {_options.ConnectTimeout}";
            ProxyLog.BackendConnectFailed(_logger, listen, backend.Name, backend.EndPoint, error);
            return null;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private async Task ForwardAsync(Socket client, Socket backend, CancellationToken ct)
    {
        bool clean = await SocketRelay.RunAsync(NextRelayLoop(), client, backend, ct).ConfigureAwait(false);
        if (!clean)
        {
            Abort(client);
            Abort(backend);
        }
    }

    /// <summary>Closes with RST (linger 0): the peer learns the stream was cut, not finished.</summary>
    private static void Abort(Socket socket)
    {
        try
        {
            socket.LingerState = new LingerOption(true, 0);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
        }
        socket.Dispose();
    }

    private static void SetNoDelay(Socket socket)
    {
        try
        {
            socket.NoDelay = true;
        }
        catch (SocketException)
        {
            // The peer already reset; the first receive or send will say so.
        }
    }

    private static EndPoint? RemoteEndPointOf(Socket socket)
    {
        try
        {
            return socket.RemoteEndPoint;
        }
        catch (SocketException)
        {
            return null;
        }
    }

    private readonly record struct Connected(Socket Socket, ActiveCount Count);

    private sealed class BackendSet(ProxyBackend[] backends)
    {
        public ProxyBackend[] Backends { get; } = backends;

        /// <summary>Completed when SetBackends replaces this set: what a held client waits for.</summary>
        public TaskCompletionSource Replaced { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public bool Contains(ProxyBackend backend) => Array.IndexOf(Backends, backend) >= 0;
    }

    /// <summary>A count of open connections that can be awaited to reach zero.</summary>
    private sealed class ActiveCount
    {
        private readonly Lock _gate = new();
        private int _value;
        private TaskCompletionSource? _idle;

        public int Value => Volatile.Read(ref _value);

        public void Enter() => Interlocked.Increment(ref _value);

        public void Exit()
        {
            if (Interlocked.Decrement(ref _value) != 0) return;
            TaskCompletionSource? idle;
            lock (_gate)
            {
                idle = _idle;
                _idle = null;
            }
            idle?.TrySetResult();
        }

        /// <summary>
        /// Completes when the count next reaches zero. It may complete while a new connection has already
        /// been counted again, so callers re-check <see cref="Value"/>.
        /// </summary>
        public Task WhenIdle()
        {
            lock (_gate)
            {
                if (Volatile.Read(ref _value) == 0) return Task.CompletedTask;
                return (_idle ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
            }
        }
    }
}
