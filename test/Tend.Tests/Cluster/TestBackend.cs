using System.Net;
using System.Net.Sockets;
using System.Text;
using Tend.Cluster;

namespace Tend.Tests.Cluster;

/// <summary>
/// A backend for proxy tests: a real listener on 127.0.0.1:0 that serves every connection with one of
/// a few behaviours, and counts what it accepted.
/// </summary>
public sealed class TestBackend : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Func<TestBackend, NetworkStream, CancellationToken, Task> _serve;
    private readonly List<Task> _serving = [];
    private readonly Task _accepting;
    private int _accepted;

    private TestBackend(string name, Func<TestBackend, NetworkStream, CancellationToken, Task> serve)
    {
        Name = name;
        _serve = serve;
        _listener.Start();
        _accepting = AcceptAsync();
    }

    public string Name { get; }

    public IPEndPoint EndPoint => (IPEndPoint)_listener.LocalEndpoint;

    public ProxyBackend Backend => new(Name, EndPoint);

    public int Accepted => Volatile.Read(ref _accepted);

    /// <summary>Answers every line with "name:line"; closes when the client does.</summary>
    public static TestBackend Lines(string name) => new(name, static async (self, stream, ct) =>
    {
        using var reader = new StreamReader(stream, Encoding.ASCII, leaveOpen: true);
        while (await reader.ReadLineAsync(ct) is { } line)
        {
            await stream.WriteAsync(Encoding.ASCII.GetBytes($"{self.Name}:{line}\n"), ct);
        }
    });

    /// <summary>Sends back every byte; half-closes when the client has.</summary>
    public static TestBackend Echo(string name) => new(name, static async (_, stream, ct) =>
    {
        await stream.CopyToAsync(stream, ct);
        stream.Socket.Shutdown(SocketShutdown.Send);
    });

    /// <summary>Reads to the end of the stream, then answers "name got N" and closes.</summary>
    public static TestBackend CountThenReply(string name) => new(name, static async (self, stream, ct) =>
    {
        var buffer = new byte[64 * 1024];
        long total = 0;
        int read;
        while ((read = await stream.ReadAsync(buffer, ct)) > 0) total += read;
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"{self.Name} got {total}\n"), ct);
    });

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accepting.WaitAsync(TimeSpan.FromSeconds(10));
        Task[] serving;
        lock (_serving) serving = [.. _serving];
        await Task.WhenAll(serving).WaitAsync(TimeSpan.FromSeconds(10));
        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        try
        {
            while (true)
            {
                Socket socket = await _listener.AcceptSocketAsync(_stop.Token);
                Interlocked.Increment(ref _accepted);
                lock (_serving) _serving.Add(ServeAsync(socket));
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }
    }

    private async Task ServeAsync(Socket socket)
    {
        await Task.Yield();
        using var stream = new NetworkStream(socket, ownsSocket: true);
        try
        {
            await _serve(this, stream, _stop.Token);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or SocketException or ObjectDisposedException)
        {
            // The proxy or the test cut the connection; what the test sees is what it asserts.
        }
    }
}
