using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Tend.Cluster;
using Tend.Tests.Support;

namespace Tend.Tests.Cluster;

public sealed class TcpProxyTests
{
    private static readonly TimeSpan s_bound = TimeSpan.FromSeconds(30);

    private static TcpProxy StartProxy(TcpProxyOptions? options = null, TimeProvider? time = null)
    {
        var proxy = new TcpProxy(new IPEndPoint(IPAddress.Loopback, 0), NullLogger.Instance, options, time);
        proxy.Start();
        return proxy;
    }

    [Fact]
    public async Task Proxy_Request_ReachesBackendAndTheAnswerComesBack()
    {
        await using var a = TestBackend.Lines("a");
        await using var proxy = StartProxy();
        proxy.SetBackends([a.Backend]);

        using var client = await ProxyClient.ConnectAsync(proxy);

        Assert.Equal("a:hello", await client.AskAsync("hello"));
        Assert.Equal("a:again", await client.AskAsync("again"));
        Assert.Equal(1, proxy.Accepted);
        Assert.Equal(1, proxy.Forwarded);
        Assert.Equal(0, proxy.Failed);
        Assert.Equal(1, proxy.ActiveConnections["a"]);
    }

    [Fact]
    public async Task Proxy_TwoBackends_ConnectionsAlternate()
    {
        await using var a = TestBackend.Lines("a");
        await using var b = TestBackend.Lines("b");
        await using var proxy = StartProxy();
        proxy.SetBackends([a.Backend, b.Backend]);

        var answers = new List<string?>();
        for (int i = 0; i < 4; i++)
        {
            using var client = await ProxyClient.ConnectAsync(proxy);
            answers.Add(await client.AskAsync("x"));
        }

        Assert.Equal(["a:x", "b:x", "a:x", "b:x"], answers);
    }

    [Fact]
    public async Task Proxy_BackendRemoved_GetsNoNewConnectionsAndDrainsAfterItsLastCloses()
    {
        await using var a = TestBackend.Lines("a");
        await using var b = TestBackend.Lines("b");
        await using var proxy = StartProxy();
        proxy.SetBackends([a.Backend]);
        var early = await ProxyClient.ConnectAsync(proxy);
        Assert.Equal("a:1", await early.AskAsync("1"));

        proxy.SetBackends([b.Backend]);
        using (var later1 = await ProxyClient.ConnectAsync(proxy))
        using (var later2 = await ProxyClient.ConnectAsync(proxy))
        {
            Assert.Equal("b:2", await later1.AskAsync("2"));
            Assert.Equal("b:3", await later2.AskAsync("3"));
        }

        // The connection opened before the removal still works, and holds the drain open.
        Assert.Equal("a:4", await early.AskAsync("4"));
        Task<bool> drained = proxy.DrainAsync("a", s_bound);
        Assert.False(drained.IsCompleted);
        Assert.Equal(1, proxy.ActiveConnections["a"]);
        Assert.Equal(1, a.Accepted);

        early.Dispose();

        Assert.True(await drained.WaitAsync(s_bound));
        Assert.False(proxy.ActiveConnections.ContainsKey("a"));
        Assert.Equal(1, a.Accepted);
        Assert.Equal(2, b.Accepted);
    }

    [Fact]
    public async Task Proxy_DrainTimeout_ReturnsFalseWhileAConnectionStaysOpen()
    {
        var time = new FakeTimeProvider();
        await using var a = TestBackend.Lines("a");
        await using var proxy = StartProxy(time: time);
        proxy.SetBackends([a.Backend]);
        using var client = await ProxyClient.ConnectAsync(proxy);
        Assert.Equal("a:1", await client.AskAsync("1"));
        proxy.SetBackends([]);

        Task<bool> drained = proxy.DrainAsync("a", TimeSpan.FromSeconds(5));
        time.Advance(TimeSpan.FromSeconds(6));

        Assert.False(await drained.WaitAsync(s_bound));
        // Draining does not cut the connection: stopping the instance does.
        Assert.Equal("a:2", await client.AskAsync("2"));
    }

    [Fact]
    public async Task Proxy_DrainOfAnUnknownBackend_CompletesAtOnce()
    {
        await using var proxy = StartProxy();

        Assert.True(await proxy.DrainAsync("nobody", s_bound).WaitAsync(s_bound));
    }

    [Fact]
    public async Task Proxy_RefusedBackend_IsSkippedForTheNextOne()
    {
        await using var b = TestBackend.Lines("b");
        await using var proxy = StartProxy();
        proxy.SetBackends([new ProxyBackend("dead", ClosedEndPoint()), b.Backend]);

        for (int i = 0; i < 3; i++)
        {
            using var client = await ProxyClient.ConnectAsync(proxy);
            Assert.Equal($"b:{i}", await client.AskAsync($"{i}"));
        }

        Assert.Equal(3, proxy.Forwarded);
        Assert.Equal(0, proxy.Failed);
        Assert.Equal(0, proxy.ActiveConnections["dead"]);
    }

    [Fact]
    public async Task Proxy_AllBackendsRefused_ClientIsClosedAndCountedFailed()
    {
        await using var proxy = StartProxy(new TcpProxyOptions { BackendWait = TimeSpan.Zero });
        proxy.SetBackends([new ProxyBackend("dead1", ClosedEndPoint()), new ProxyBackend("dead2", ClosedEndPoint())]);

        Assert.True(await IsTurnedAwayAsync(proxy));
        await Eventually.TrueAsync(() => proxy.Failed == 1, "the client counted as failed");
        Assert.Equal(1, proxy.Accepted);
        Assert.Equal(0, proxy.Forwarded);
        Assert.Equal(0, proxy.ActiveConnections["dead1"]);
        Assert.Equal(0, proxy.ActiveConnections["dead2"]);
    }

    [Fact]
    public async Task Proxy_NoBackends_ClientIsHeldUntilOneIsAdded()
    {
        var time = new FakeTimeProvider();
        await using var a = TestBackend.Lines("a");
        await using var proxy = StartProxy(time: time);

        using var client = await ProxyClient.ConnectAsync(proxy);
        await client.SendLineAsync("early");
        await Eventually.TrueAsync(() => proxy.Accepted == 1, "the client accepted");
        Assert.Equal(0, a.Accepted);

        proxy.SetBackends([a.Backend]);

        // What the client sent while held was kept and arrives first.
        Assert.Equal("a:early", await client.ReadLineAsync());
        Assert.Equal("a:late", await client.AskAsync("late"));
        Assert.Equal(0, proxy.Failed);
    }

    [Fact]
    public async Task Proxy_NoBackends_ClientIsClosedAfterBackendWaitAndCountedFailed()
    {
        var time = new FakeTimeProvider();
        await using var proxy = StartProxy(new TcpProxyOptions { BackendWait = TimeSpan.FromSeconds(2) }, time);

        using var client = await ProxyClient.ConnectAsync(proxy);
        await Eventually.TrueAsync(() => proxy.Accepted == 1, "the client accepted");
        time.Advance(TimeSpan.FromSeconds(3));

        Assert.True(await client.IsClosedAsync());
        await Eventually.TrueAsync(() => proxy.Failed == 1, "the client counted as failed");
        Assert.Equal(0, proxy.Forwarded);
    }

    [Fact]
    public async Task Proxy_OnlyBackendRefuses_ClientIsHeldUntilTheSetIsReplaced()
    {
        // The only instance crashed and its restart is under way: the client must not be refused.
        var time = new FakeTimeProvider();
        await using var a = TestBackend.Lines("a");
        await using var proxy = StartProxy(time: time);
        proxy.SetBackends([new ProxyBackend("a", ClosedEndPoint())]);

        using var client = await ProxyClient.ConnectAsync(proxy);
        await client.SendLineAsync("hi");
        await Eventually.TrueAsync(() => proxy.Accepted == 1, "the client accepted");

        proxy.SetBackends([a.Backend]);

        Assert.Equal("a:hi", await client.ReadLineAsync());
        Assert.Equal(0, proxy.Failed);
    }

    [Fact]
    public async Task Proxy_HalfClose_BackendSeesEndOfStreamAndStillReplies()
    {
        await using var a = TestBackend.CountThenReply("a");
        await using var proxy = StartProxy();
        proxy.SetBackends([a.Backend]);

        using var client = await ProxyClient.ConnectAsync(proxy);
        await client.Stream.WriteAsync(new byte[100_000]).AsTask().WaitAsync(s_bound);
        client.Socket.Shutdown(SocketShutdown.Send);

        Assert.Equal("a got 100000\n", await client.ReadToEndAsync());
        await Eventually.TrueAsync(() => proxy.ActiveConnections["a"] == 0, "the connection torn down");
    }

    [Fact]
    public async Task Proxy_LargeTransferBothWays_ArrivesIntact()
    {
        await using var a = TestBackend.Echo("a");
        await using var proxy = StartProxy();
        proxy.SetBackends([a.Backend]);
        byte[] payload = RandomNumberGenerator.GetBytes(8 * 1024 * 1024);

        using var client = await ProxyClient.ConnectAsync(proxy);
        Task sending = Task.Run(async () =>
        {
            // Uneven writes, so chunk boundaries on the way differ from the buffer size.
            for (int offset = 0; offset < payload.Length; offset += 100_003)
            {
                await client.Stream.WriteAsync(payload.AsMemory(offset, Math.Min(100_003, payload.Length - offset)));
            }
            client.Socket.Shutdown(SocketShutdown.Send);
        });
        var received = new MemoryStream();
        await client.Stream.CopyToAsync(received).WaitAsync(s_bound);
        await sending.WaitAsync(s_bound);

        Assert.Equal(payload.Length, received.Length);
        Assert.Equal(SHA256.HashData(payload), SHA256.HashData(received.ToArray()));
    }

    [Fact]
    public async Task Proxy_BurstOf200Connections_AllComplete()
    {
        await using var a = TestBackend.Lines("a");
        await using var b = TestBackend.Lines("b");
        await using var proxy = StartProxy();
        proxy.SetBackends([a.Backend, b.Backend]);

        string?[] answers = await Task.WhenAll(Enumerable.Range(0, 200).Select(async i =>
        {
            using var client = await ProxyClient.ConnectAsync(proxy);
            string? answer = await client.AskAsync($"n{i}");
            return answer?.EndsWith($":n{i}", StringComparison.Ordinal) == true ? answer : $"wrong answer to n{i}: {answer}";
        })).WaitAsync(TimeSpan.FromSeconds(120));

        Assert.All(answers, answer => Assert.Matches("^[ab]:n[0-9]+$", answer));
        Assert.Equal(200, proxy.Forwarded);
        Assert.Equal(100, a.Accepted);
        Assert.Equal(100, b.Accepted);
        await Eventually.TrueAsync(() => proxy.ActiveConnections.Values.Sum() == 0, "every connection torn down");
    }

    [Fact]
    public async Task Proxy_Disposed_RefusesNewConnectionsAndClosesOpenOnes()
    {
        await using var a = TestBackend.Lines("a");
        var proxy = StartProxy();
        proxy.SetBackends([a.Backend]);
        using var client = await ProxyClient.ConnectAsync(proxy);
        Assert.Equal("a:1", await client.AskAsync("1"));
        IPEndPoint endPoint = proxy.LocalEndPoint;

        await proxy.DisposeAsync().AsTask().WaitAsync(s_bound);

        Assert.True(await client.IsClosedAsync());
        using var late = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        var refused = await Assert.ThrowsAsync<SocketException>(() => late.ConnectAsync(endPoint).WaitAsync(s_bound));
        Assert.Equal(SocketError.ConnectionRefused, refused.SocketErrorCode);
        Assert.Equal(0, proxy.ActiveConnections["a"]);
    }

    [Fact]
    public async Task Proxy_DuplicateBackendNames_AreRejectedAndTheOldSetKept()
    {
        await using var proxy = StartProxy();
        var one = new ProxyBackend("a", new IPEndPoint(IPAddress.Loopback, 1));
        proxy.SetBackends([one]);

        Assert.Throws<ArgumentException>(() => proxy.SetBackends([one, one with { EndPoint = new IPEndPoint(IPAddress.Loopback, 2) }]));
        Assert.Equal([one], proxy.Backends);
    }

    /// <summary>
    /// Connects and expects to be closed without an answer. The proxy may reset the connection before the
    /// client has seen its connect complete, so a reset from the connect counts too.
    /// </summary>
    private static async Task<bool> IsTurnedAwayAsync(TcpProxy proxy)
    {
        try
        {
            using var client = await ProxyClient.ConnectAsync(proxy);
            return await client.IsClosedAsync();
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
        {
            return true;
        }
    }

    private static IPEndPoint ClosedEndPoint()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var endPoint = (IPEndPoint)listener.LocalEndpoint;
        listener.Stop();
        return endPoint;
    }

    /// <summary>A client of the proxy: line-oriented helpers, every wait bounded.</summary>
    private sealed class ProxyClient : IDisposable
    {
        private readonly StreamReader _reader;

        private ProxyClient(Socket socket)
        {
            Socket = socket;
            Stream = new NetworkStream(socket, ownsSocket: true);
            _reader = new StreamReader(Stream, Encoding.ASCII, leaveOpen: true);
        }

        public Socket Socket { get; }

        public NetworkStream Stream { get; }

        public static async Task<ProxyClient> ConnectAsync(TcpProxy proxy)
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(proxy.LocalEndPoint).WaitAsync(s_bound);
                return new ProxyClient(socket);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }

        public async Task SendLineAsync(string line) =>
            await Stream.WriteAsync(Encoding.ASCII.GetBytes(line + "\n")).AsTask().WaitAsync(s_bound);

        public async Task<string?> ReadLineAsync() => await _reader.ReadLineAsync().WaitAsync(s_bound);

        public async Task<string?> AskAsync(string line)
        {
            await SendLineAsync(line);
            return await ReadLineAsync();
        }

        public async Task<string> ReadToEndAsync() => await _reader.ReadToEndAsync().WaitAsync(s_bound);

        /// <summary>True when the proxy ended the connection: end of stream or a reset, and no data.</summary>
        public async Task<bool> IsClosedAsync()
        {
            try
            {
                return await Stream.ReadAsync(new byte[1]).AsTask().WaitAsync(s_bound) == 0;
            }
            catch (IOException e) when (e.InnerException is SocketException { SocketErrorCode: SocketError.ConnectionReset })
            {
                return true;
            }
        }

        public void Dispose()
        {
            _reader.Dispose();
            Stream.Dispose();
        }
    }
}
