using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Tend.Tests.Health;

/// <summary>
/// A tiny HTTP/1.1 server on 127.0.0.1:0 that answers every request with whatever <see cref="Respond"/>
/// says (a raw TcpListener: the test project does not reference ASP.NET), and keeps every request
/// it read, body included (<see cref="Received"/>). A null answer accepts the connection and never
/// replies.
/// </summary>
public sealed class HttpTestServer : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly List<TcpClient> _held = [];
    private readonly Task _accepting;
    private readonly System.Collections.Concurrent.ConcurrentQueue<HttpTestRequest> _received = new();
    private int _requests;

    public HttpTestServer(Func<int, string?> respond)
    {
        Respond = respond;
        _listener.Start();
        _accepting = AcceptAsync();
    }

    /// <summary>Request number (from 1) → raw response head, e.g. "HTTP/1.1 200 OK".</summary>
    public Func<int, string?> Respond { get; set; }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public Uri Url => new($"http://127.0.0.1:{Port}/healthz");

    public int Requests => Volatile.Read(ref _requests);

    /// <summary>Every request so far, with its headers and body, in arrival order.</summary>
    public IReadOnlyList<HttpTestRequest> Received => [.. _received];

    public static string Status(int code, string extraHeaders = "") =>
        $"HTTP/1.1 {code} Status\r\n{extraHeaders}Content-Length: 0\r\nConnection: close\r\n\r\n";

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accepting.WaitAsync(TimeSpan.FromSeconds(10));
        lock (_held) foreach (var client in _held) client.Dispose();
        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        try
        {
            while (true)
            {
                TcpClient client = await _listener.AcceptTcpClientAsync(_stop.Token);
                _ = ServeAsync(client);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException or InvalidOperationException)
        {
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        try
        {
            var stream = client.GetStream();
            using var received = new MemoryStream();
            var buffer = new byte[16 * 1024];
            int headEnd;
            while ((headEnd = received.GetBuffer().AsSpan(0, (int)received.Length).IndexOf("\r\n\r\n"u8)) < 0)
            {
                int n = await stream.ReadAsync(buffer, _stop.Token);
                if (n == 0) { client.Dispose(); return; }
                received.Write(buffer, 0, n);
            }
            string[] head = Encoding.ASCII.GetString(received.GetBuffer(), 0, headEnd).Split("\r\n");
            var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            foreach (string line in head.Skip(1))
                if (line.IndexOf(':') is int colon and > 0) headers[line[..colon].Trim()] = line[(colon + 1)..].Trim();
            // A body only by Content-Length: what the clients under test send.
            int length = headers.TryGetValue("Content-Length", out string? cl) ? int.Parse(cl, System.Globalization.CultureInfo.InvariantCulture) : 0;
            int bodyStart = headEnd + 4;
            while (received.Length < bodyStart + length)
            {
                int n = await stream.ReadAsync(buffer, _stop.Token);
                if (n == 0) { client.Dispose(); return; }
                received.Write(buffer, 0, n);
            }
            string[] requestLine = head[0].Split(' ');
            _received.Enqueue(new HttpTestRequest(requestLine[0], requestLine.Length > 1 ? requestLine[1] : "", headers,
                received.GetBuffer().AsSpan(bodyStart, length).ToArray()));
            string? response = Respond(Interlocked.Increment(ref _requests));
            if (response is null)
            {
                lock (_held) _held.Add(client);
                return;
            }
            await stream.WriteAsync(Encoding.ASCII.GetBytes(response), _stop.Token);
            client.Dispose();
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or ObjectDisposedException)
        {
            client.Dispose();
        }
    }
}

/// <summary>One request <see cref="HttpTestServer"/> read: request line, headers, and the body its Content-Length announced.</summary>
public sealed record HttpTestRequest(string Method, string Path, IReadOnlyDictionary<string, string> Headers, byte[] Body);
