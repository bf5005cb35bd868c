using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Tend.Io;

namespace Tend.Tests.Io;

/// <summary>
/// SocketRelay on real loopback TCP connections: client ⇄ [relay end a | relay end b] ⇄ server, the
/// relay splicing between the two middle sockets on its own epoll loop.
/// </summary>
public sealed class SocketRelayTests : IDisposable
{
    private static readonly TimeSpan s_limit = TimeSpan.FromSeconds(30);
    private readonly EpollLoop _loop = new("relay test");

    public void Dispose() => _loop.Dispose();

    /// <summary>Two connected TCP pairs: (client, a) and (b, server).</summary>
    private static async Task<(Socket Client, Socket A, Socket B, Socket Server)> TwoPairsAsync()
    {
        (Socket client, Socket a) = await PairAsync();
        (Socket b, Socket server) = await PairAsync();
        return (client, a, b, server);
    }

    private static async Task<(Socket Connecting, Socket Accepted)> PairAsync()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        var connecting = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        Task<Socket> accept = listener.AcceptAsync();
        await connecting.ConnectAsync(listener.LocalEndPoint!);
        return (connecting, await accept.WaitAsync(s_limit));
    }

    private static async Task<byte[]> ReadToEndAsync(Socket socket)
    {
        using var all = new MemoryStream();
        byte[] buffer = new byte[64 * 1024];
        while (true)
        {
            int n = await socket.ReceiveAsync(buffer, SocketFlags.None).WaitAsync(s_limit);
            if (n == 0) return all.ToArray();
            all.Write(buffer, 0, n);
        }
    }

    private static async Task SendAllAsync(Socket socket, byte[] data)
    {
        int sent = 0;
        while (sent < data.Length) sent += await socket.SendAsync(data.AsMemory(sent), SocketFlags.None);
    }

    [Fact]
    public async Task Relay_FourMegabytesEachWayAndBothEnds_ArriveIntactAndTheEndIsClean()
    {
        (Socket client, Socket a, Socket b, Socket server) = await TwoPairsAsync();
        using (client) using (a) using (b) using (server)
        {
            Task<bool> relay = SocketRelay.RunAsync(_loop, a, b, CancellationToken.None);
            byte[] up = RandomNumberGenerator.GetBytes(4 << 20);
            byte[] down = RandomNumberGenerator.GetBytes(4 << 20);

            // Both directions at once, each ending with a half-close, so the relay must keep the other
            // direction going after one has ended.
            Task<byte[]> serverGot = ReadToEndAsync(server);
            Task<byte[]> clientGot = ReadToEndAsync(client);
            await Task.WhenAll(
                SendAllAsync(client, up).ContinueWith(_ => client.Shutdown(SocketShutdown.Send), TaskScheduler.Default),
                SendAllAsync(server, down).ContinueWith(_ => server.Shutdown(SocketShutdown.Send), TaskScheduler.Default));

            Assert.Equal(up, await serverGot);
            Assert.Equal(down, await clientGot);
            Assert.True(await relay.WaitAsync(s_limit));
        }
    }

    [Fact]
    public async Task Relay_HalfClose_TheOtherSideSeesTheEndAndCanStillAnswer()
    {
        (Socket client, Socket a, Socket b, Socket server) = await TwoPairsAsync();
        using (client) using (a) using (b) using (server)
        {
            Task<bool> relay = SocketRelay.RunAsync(_loop, a, b, CancellationToken.None);
            await SendAllAsync(client, "question"u8.ToArray());
            client.Shutdown(SocketShutdown.Send);

            Assert.Equal("question"u8.ToArray(), await ReadToEndAsync(server));
            Assert.False(relay.IsCompleted);
            await SendAllAsync(server, "answer"u8.ToArray());
            server.Shutdown(SocketShutdown.Send);

            Assert.Equal("answer"u8.ToArray(), await ReadToEndAsync(client));
            Assert.True(await relay.WaitAsync(s_limit));
        }
    }

    [Fact]
    public async Task Relay_ClientHangsUpWhileTheServerIsNotReading_NoSpinAndEverythingArrivesLater()
    {
        (Socket client, Socket a, Socket b, Socket server) = await TwoPairsAsync();
        using (client) using (a) using (b) using (server)
        {
            // Small buffers toward the server, so that what the client sends stays queued on the relay's side.
            b.SendBufferSize = 16 * 1024;
            server.ReceiveBufferSize = 16 * 1024;
            Task<bool> relay = SocketRelay.RunAsync(_loop, a, b, CancellationToken.None);
            // The server ends its side first, so the relay shuts down its writing to the client; the
            // client then sends more than the way to the server holds and closes: the relay's socket is
            // hung up (shut both ways) with bytes still queued that the server is not reading yet.
            server.Shutdown(SocketShutdown.Send);
            Assert.Empty(await ReadToEndAsync(client));
            byte[] up = RandomNumberGenerator.GetBytes(1 << 20);
            Task send = SendAllAsync(client, up).ContinueWith(_ => client.Shutdown(SocketShutdown.Send), TaskScheduler.Default);
            await Task.Delay(TimeSpan.FromSeconds(1));

            // epoll reports a hung-up socket on every wait: a relay that kept listening would spin its loop.
            long cpuBefore = LoopThreadCpuTicks();
            await Task.Delay(TimeSpan.FromSeconds(1));
            long spent = LoopThreadCpuTicks() - cpuBefore;
            Assert.True(spent < 50, $"the relay loop used {spent} clock ticks in one second while waiting");

            Assert.Equal(up, await ReadToEndAsync(server));
            await send.WaitAsync(s_limit);
            Assert.True(await relay.WaitAsync(s_limit));
        }
    }

    /// <summary>utime + stime of this test's loop thread ("relay test"), in clock ticks.</summary>
    private static long LoopThreadCpuTicks()
    {
        foreach (string task in Directory.EnumerateDirectories("/proc/self/task"))
        {
            string comm;
            try { comm = File.ReadAllText(Path.Combine(task, "comm")).TrimEnd('\n'); }
            catch (IOException) { continue; }
            if (comm != "relay test") continue;
            string stat = File.ReadAllText(Path.Combine(task, "stat"));
            string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return long.Parse(fields[11], System.Globalization.CultureInfo.InvariantCulture) + long.Parse(fields[12], System.Globalization.CultureInfo.InvariantCulture);
        }
        throw new InvalidOperationException("no thread named 'relay test'");
    }

    [Fact]
    public async Task Relay_OneSideResets_EndsUncleanSoTheOwnerCanResetTheOther()
    {
        (Socket client, Socket a, Socket b, Socket server) = await TwoPairsAsync();
        using (client) using (a) using (b) using (server)
        {
            Task<bool> relay = SocketRelay.RunAsync(_loop, a, b, CancellationToken.None);
            await SendAllAsync(client, "hello"u8.ToArray());
            byte[] got = new byte[5];
            Assert.Equal(5, await server.ReceiveAsync(got, SocketFlags.None).WaitAsync(s_limit));

            server.LingerState = new LingerOption(true, 0);
            server.Close(); // RST to b

            Assert.False(await relay.WaitAsync(s_limit));
        }
    }

    [Fact]
    public async Task Relay_Cancelled_EndsUncleanWhileBothSidesAreIdle()
    {
        (Socket client, Socket a, Socket b, Socket server) = await TwoPairsAsync();
        using (client) using (a) using (b) using (server)
        {
            using var cts = new CancellationTokenSource();
            Task<bool> relay = SocketRelay.RunAsync(_loop, a, b, cts.Token);
            await SendAllAsync(client, "ping"u8.ToArray());
            byte[] got = new byte[4];
            Assert.Equal(4, await server.ReceiveAsync(got, SocketFlags.None).WaitAsync(s_limit));
            Assert.False(relay.IsCompleted);

            await cts.CancelAsync();

            Assert.False(await relay.WaitAsync(s_limit));
        }
    }
}
