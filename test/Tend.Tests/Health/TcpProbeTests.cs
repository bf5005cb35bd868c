using System.Net;
using System.Net.Sockets;
using Tend.Health;

namespace Tend.Tests.Health;

public sealed class TcpProbeTests
{
    private static readonly TimeSpan s_bound = TimeSpan.FromSeconds(30);

    private static Task<ProbeResult> CheckAsync(string target) =>
        new TcpProbe(target, TimeSpan.FromSeconds(10)).CheckAsync(CancellationToken.None).WaitAsync(s_bound);

    [Fact]
    public async Task Tcp_ListeningPort_Succeeds()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        try
        {
            var result = await CheckAsync($"127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}");

            Assert.True(result.Success, result.Detail);
            // The connection really reached the listener.
            using var accepted = await listener.AcceptTcpClientAsync().WaitAsync(s_bound);
        }
        finally
        {
            listener.Stop();
        }
    }

    [Fact]
    public async Task Tcp_ClosedPort_FailsWithConnectionRefused()
    {
        var result = await CheckAsync($"127.0.0.1:{HttpProbeTests.ClosedPort()}");

        Assert.False(result.Success);
        Assert.Equal("connection refused", result.Detail);
    }

    [Fact]
    public async Task Tcp_Ipv6Loopback_Succeeds()
    {
        var listener = new TcpListener(IPAddress.IPv6Loopback, 0);
        listener.Start();
        try
        {
            var result = await CheckAsync($"[::1]:{((IPEndPoint)listener.LocalEndpoint).Port}");

            Assert.True(result.Success, result.Detail);
        }
        finally
        {
            listener.Stop();
        }
    }

    [Fact]
    public async Task Tcp_Localhost_Succeeds()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        try
        {
            var result = await CheckAsync($"localhost:{((IPEndPoint)listener.LocalEndpoint).Port}");

            Assert.True(result.Success, result.Detail);
        }
        finally
        {
            listener.Stop();
        }
    }

    [Theory]
    [InlineData("127.0.0.1:80", "127.0.0.1", 80)]
    [InlineData("db:5432", "db", 5432)]
    [InlineData("[::1]:8080", "::1", 8080)]
    [InlineData(":9000", "localhost", 9000)]
    public void Tcp_Target_Parses(string target, string host, int port) =>
        Assert.Equal((host, port), TcpProbe.ParseTarget(target));

    [Theory]
    [InlineData("localhost")]
    [InlineData("::1:80")]
    [InlineData("host:0")]
    [InlineData("host:65536")]
    [InlineData("host:http")]
    [InlineData("[::1]80")]
    public void Tcp_BadTarget_Throws(string target) =>
        Assert.Throws<ArgumentException>(() => new TcpProbe(target, TimeSpan.FromSeconds(1)));
}
