using System.Net;
using System.Net.Sockets;
using Tend.Health;
using Tend.Tests.Support;

namespace Tend.Tests.Health;

/// <summary>The HTTP probe against a real server on a real port.</summary>
public sealed class HttpProbeTests
{
    private static readonly TimeSpan s_bound = TimeSpan.FromSeconds(30);

    private static Task<ProbeResult> CheckAsync(Uri url, TimeSpan? timeout = null) =>
        new HttpProbe(url, timeout ?? TimeSpan.FromSeconds(10)).CheckAsync(CancellationToken.None).WaitAsync(s_bound);

    [Fact]
    public async Task Http_200_Succeeds()
    {
        await using var server = new HttpTestServer(_ => HttpTestServer.Status(200));

        var result = await CheckAsync(server.Url);

        Assert.True(result.Success, result.Detail);
        Assert.Equal("HTTP 200", result.Detail);
        Assert.Equal(1, server.Requests);
    }

    [Fact]
    public async Task Http_302_SucceedsWithoutFollowingTheRedirect()
    {
        // The redirect points at a closed port: following it would fail the check.
        int closed = ClosedPort();
        await using var server = new HttpTestServer(_ => HttpTestServer.Status(302, $"Location: http://127.0.0.1:{closed}/login\r\n"));

        var result = await CheckAsync(server.Url);

        Assert.True(result.Success, result.Detail);
        Assert.Equal("HTTP 302", result.Detail);
    }

    [Fact]
    public async Task Http_503_Fails()
    {
        await using var server = new HttpTestServer(_ => HttpTestServer.Status(503));

        var result = await CheckAsync(server.Url);

        Assert.False(result.Success);
        Assert.Equal("HTTP 503", result.Detail);
    }

    [Fact]
    public async Task Http_404_Fails()
    {
        await using var server = new HttpTestServer(_ => HttpTestServer.Status(404));

        var result = await CheckAsync(server.Url);

        Assert.False(result.Success);
        Assert.Equal("HTTP 404", result.Detail);
    }

    [Fact]
    public async Task Http_ClosedPort_FailsWithConnectionRefused()
    {
        var result = await CheckAsync(new Uri($"http://127.0.0.1:{ClosedPort()}/healthz"));

        Assert.False(result.Success);
        Assert.Equal("connection refused", result.Detail);
    }

    [Fact]
    public async Task Http_ServerNeverAnswers_FailsWithTimeout()
    {
        await using var server = new HttpTestServer(_ => null);

        var result = await CheckAsync(server.Url, TimeSpan.FromSeconds(2));

        Assert.False(result.Success);
        Assert.Equal("timed out after 2s", result.Detail);
        Assert.Equal(1, server.Requests);
    }

    [Fact]
    public async Task Http_FailingThenRecovered_FollowsTheServer()
    {
        await using var server = new HttpTestServer(n => HttpTestServer.Status(n <= 2 ? 503 : 200));
        var probe = new HttpProbe(server.Url, TimeSpan.FromSeconds(10));

        var first = await probe.CheckAsync(CancellationToken.None).WaitAsync(s_bound);
        var second = await probe.CheckAsync(CancellationToken.None).WaitAsync(s_bound);
        var third = await probe.CheckAsync(CancellationToken.None).WaitAsync(s_bound);

        Assert.Equal((false, "HTTP 503"), (first.Success, first.Detail));
        Assert.Equal((false, "HTTP 503"), (second.Success, second.Detail));
        Assert.Equal((true, "HTTP 200"), (third.Success, third.Detail));
    }

    [Fact]
    public async Task Http_CallerCancels_Throws()
    {
        await using var server = new HttpTestServer(_ => null);
        using var cts = new CancellationTokenSource();
        var check = new HttpProbe(server.Url, TimeSpan.FromSeconds(60)).CheckAsync(cts.Token);
        await Eventually.TrueAsync(() => server.Requests == 1, "request received");

        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => check.WaitAsync(s_bound));
    }

    internal static int ClosedPort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
