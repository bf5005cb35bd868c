using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Tend.Tests.Support;

/// <summary>
/// A real HTTP receiver on 127.0.0.1 for alert deliveries: it accepts POSTs (HTTP/1.1, Content-Length
/// bodies), answers 200 and keeps each request's headers and body. It can be started late (on a port
/// chosen up front), to play a receiver that was down.
/// </summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private TcpListener? _listener;
    private Task _loop = Task.CompletedTask;

    public WebhookReceiver(int? port = null) => Port = port ?? FreePorts.Next();

    public int Port { get; }
    public string Url(string path = "/hook") => $"http://127.0.0.1:{Port}{path}";
    public ConcurrentQueue<Delivery> Received { get; } = new();

    public sealed record Delivery(string Path, IReadOnlyDictionary<string, string> Headers, byte[] Body)
    {
        public string Text => Encoding.UTF8.GetString(Body);
    }

    public WebhookReceiver Start()
    {
        _listener = new TcpListener(IPAddress.Loopback, Port);
        _listener.Start();
        _loop = Task.Run(AcceptAsync);
        return this;
    }

    private async Task AcceptAsync()
    {
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                TcpClient client = await _listener!.AcceptTcpClientAsync(_stop.Token);
                _ = Task.Run(() => ServeAsync(client));
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException) { }
    }

    private async Task ServeAsync(TcpClient client)
    {
        using (client)
        {
            try
            {
                NetworkStream stream = client.GetStream();
                while (true)
                {
                    var head = new List<byte>();
                    int b;
                    var one = new byte[1];
                    while (true)
                    {
                        int n = await stream.ReadAsync(one, _stop.Token);
                        if (n == 0) return;
                        head.Add(one[0]);
                        b = head.Count;
                        if (b >= 4 && head[b - 4] == '\r' && head[b - 3] == '\n' && head[b - 2] == '\r' && head[b - 1] == '\n') break;
                    }
                    string[] lines = Encoding.ASCII.GetString([.. head]).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
                    string path = lines[0].Split(' ')[1];
                    var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
                    foreach (string line in lines.Skip(1))
                    {
                        int colon = line.IndexOf(':');
                        if (colon > 0) headers[line[..colon].Trim()] = line[(colon + 1)..].Trim();
                    }
                    int length = headers.TryGetValue("Content-Length", out string? l) ? int.Parse(l) : 0;
                    var body = new byte[length];
                    await stream.ReadExactlyAsync(body, _stop.Token);
                    Received.Enqueue(new Delivery(path, headers, body));
                    await stream.WriteAsync("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"u8.ToArray(), _stop.Token);
                }
            }
            catch (Exception e) when (e is IOException or OperationCanceledException or SocketException) { }
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener?.Stop();
        await _loop;
        _stop.Dispose();
    }
}
