using System.Net.Sockets;
using System.Text;
using Tend.Api;
using Tend.Cli;

namespace Tend.Tests.Cli;

/// <summary>
/// The CLI's client against a peer on a real unix socket that answers the headers and then stalls
/// mid-body: the one case the daemon cannot be made to produce on demand, and the one that once
/// crashed `tend start` with an unhandled IOException when the launcher's one-second ping timed out
/// on a loaded machine.
/// </summary>
public sealed class DaemonClientTests : IDisposable
{
    private readonly string _home = Directory.CreateTempSubdirectory("tend-client-").FullName;

    public void Dispose() => Directory.Delete(_home, recursive: true);

    /// <summary>A listener where the daemon's socket would be, in this test's TEND_HOME.</summary>
    private Socket Listen()
    {
        var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(Path.Combine(_home, ApiRoutes.SocketFileName)));
        listener.Listen(1);
        return listener;
    }

    [Fact]
    public async Task Get_BodyStallsPastTheToken_IsACancellation_NotACrash()
    {
        using Socket listener = Listen();
        Task<Socket> accepted = listener.AcceptAsync();
        using var client = new DaemonClient(_home, ensureRunning: null);
        using var timeout = new CancellationTokenSource();

        // The client reads with blocking calls: on a thread of its own, so this test can play the peer.
        Task<PingInfo> ping = Task.Run(() => client.GetAsync(ApiRoutes.Ping, TendJsonContext.Default.PingInfo, timeout.Token));
        using Socket peer = await accepted.WaitAsync(TimeSpan.FromSeconds(10));
        byte[] request = new byte[4096];
        await peer.ReceiveAsync(request);
        // Headers and the start of a body, then nothing: the client is left blocked in the body read.
        await peer.SendAsync(Encoding.ASCII.GetBytes("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n{\"pid\":"));
        timeout.CancelAfter(TimeSpan.FromMilliseconds(200));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => ping.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task Get_PeerClosesMidBody_IsALostConnection_NotACrash()
    {
        using Socket listener = Listen();
        Task<Socket> accepted = listener.AcceptAsync();
        using var client = new DaemonClient(_home, ensureRunning: null);

        Task<PingInfo> ping = Task.Run(() => client.GetAsync(ApiRoutes.Ping, TendJsonContext.Default.PingInfo, CancellationToken.None));
        using (Socket peer = await accepted.WaitAsync(TimeSpan.FromSeconds(10)))
        {
            await peer.ReceiveAsync(new byte[4096]);
            await peer.SendAsync(Encoding.ASCII.GetBytes("HTTP/1.1 200 OK\r\n\r\n{\"pid\":"));
            peer.LingerState = new LingerOption(true, 0);
        }

        var error = await Assert.ThrowsAsync<CliException>(() => ping.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Contains("daemon", error.Message);
    }
}
