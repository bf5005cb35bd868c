using System.Net;
using System.Net.Sockets;
using Tend.Cluster;
using Tend.Config;
using Tend.Processes;
using static Tend.Tests.Processes.ProcessTestSupport;

namespace Tend.Tests.Cluster;

[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class ListenSocketTests
{
    [Theory]
    [InlineData("8080", null, 8080)]
    [InlineData("*:8080", null, 8080)]
    [InlineData("127.0.0.1:80", "127.0.0.1", 80)]
    [InlineData("localhost:80", "127.0.0.1", 80)]
    [InlineData("0.0.0.0:80", "0.0.0.0", 80)]
    [InlineData("[::1]:443", "::1", 443)]
    [InlineData(" 0 ", null, 0)]
    public void ListenAddress_TcpForms_Parse(string text, string? host, int port)
    {
        Assert.True(ListenAddress.TryParse(text, out var address, out string? error), error);

        Assert.Equal(ListenAddress.Tcp(host is null ? null : IPAddress.Parse(host), port), address);
    }

    [Fact]
    public void ListenAddress_AbsolutePath_IsUnixSocket()
    {
        Assert.Equal(ListenAddress.Unix("/run/app.sock"), ListenAddress.Parse("/run/app.sock"));
        Assert.Equal("/run/app.sock", ListenAddress.Parse("/run/app.sock").ToString());
    }

    [Theory]
    [InlineData("8080", "*:8080")]
    [InlineData("localhost:1", "127.0.0.1:1")]
    [InlineData("[::1]:2", "[::1]:2")]
    public void ListenAddress_ToString_IsCanonical(string text, string canonical) =>
        Assert.Equal(canonical, ListenAddress.Parse(text).ToString());

    [Theory]
    [InlineData("", "empty")]
    [InlineData("http", "not a port")]
    [InlineData("65536", "not a port")]
    [InlineData("-1", "not a port")]
    [InlineData("example.com:80", "not an IP address")]
    [InlineData("::1:80", "brackets")]
    [InlineData("10.1:80", "not an IP address")]
    [InlineData("relative/app.sock", "not a port")]
    public void ListenAddress_Invalid_SaysWhy(string text, string reason)
    {
        Assert.False(ListenAddress.TryParse(text, out _, out string? error));
        Assert.Contains(reason, error);
    }

    [Fact]
    public void ListenAddress_TooLongUnixPath_IsRejected()
    {
        Assert.False(ListenAddress.TryParse("/" + new string('a', 107), out _, out string? error));
        Assert.Contains("longer than 107 bytes", error);
    }

    [Fact]
    public async Task Open_BarePort_ListensOnIPv4AndIPv6()
    {
        using var socket = ListenSocket.Open("0", "web");
        if (socket.LocalEndPoint is not IPEndPoint { AddressFamily: AddressFamily.InterNetworkV6 })
            return; // no IPv6 on this machine: the IPv4 fallback is all there is

        Assert.Equal(IPAddress.IPv6Any, ((IPEndPoint)socket.LocalEndPoint).Address);
        Assert.NotEqual(0, socket.Port);
        using var v4 = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await v4.ConnectAsync(IPAddress.Loopback, socket.Port).WaitAsync(WaitLimit);
        using var v6 = new Socket(AddressFamily.InterNetworkV6, SocketType.Stream, ProtocolType.Tcp);
        await v6.ConnectAsync(IPAddress.IPv6Loopback, socket.Port).WaitAsync(WaitLimit);
    }

    [Fact]
    public void Open_PortZero_ReportsTheBoundPortAndKeepsTheConfiguredAddress()
    {
        using var socket = ListenSocket.Open("127.0.0.1:0", "web");

        Assert.NotEqual(0, socket.Port);
        Assert.Equal(0, socket.Address.Port);
        Assert.Equal("web", socket.Name);
        Assert.Equal(new ListenFd(socket.Handle, "web"), socket.ToListenFd());
    }

    [Fact]
    public void Open_PortInUse_ThrowsListenExceptionNamingTheAddress()
    {
        using var first = ListenSocket.Open("127.0.0.1:0", "web");

        var e = Assert.Throws<ListenException>(() => ListenSocket.Open($"127.0.0.1:{first.Port}", "web"));

        Assert.Equal(SocketError.AddressAlreadyInUse, e.SocketError);
        Assert.Contains($"127.0.0.1:{first.Port}", e.Message);
    }

    [Fact]
    public async Task Open_StaleUnixSocketFile_IsReplaced()
    {
        string dir = CreateTempDirectory();
        try
        {
            // A socket file nobody listens on, as a killed daemon leaves it: a second name for a
            // socket, which stays when .NET removes the first name on dispose.
            string path = Path.Combine(dir, "app.sock");
            using (ListenSocket.Open(Path.Combine(dir, "first.sock"), "web"))
            {
                await using var ln = ChildProcess.Start(Command("/bin/ln", Path.Combine(dir, "first.sock"), path));
                Assert.True((await ln.Exited.WaitAsync(WaitLimit)).IsSuccess);
            }
            Assert.True(File.Exists(path));

            using var socket = ListenSocket.Open(path, "web");

            Assert.Equal(path, socket.LocalEndPoint.ToString());
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Open_UnixPathInUseOrNotASocket_IsRefusedAndLeftAlone()
    {
        string dir = CreateTempDirectory();
        try
        {
            string live = Path.Combine(dir, "live.sock");
            using var owner = ListenSocket.Open(live, "web");
            string file = Path.Combine(dir, "file");
            File.WriteAllText(file, "data");

            Assert.Contains("another process is listening", Assert.Throws<ListenException>(() => ListenSocket.Open(live, "web")).Message);
            Assert.Contains("not a socket", Assert.Throws<ListenException>(() => ListenSocket.Open(file, "web")).Message);
            Assert.Equal("data", File.ReadAllText(file));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Open_InvalidName_IsRejected() =>
        Assert.Throws<ArgumentException>(() => ListenSocket.Open("127.0.0.1:0", "a:b"));
}
