using System.Net.Sockets;
using System.Text;

namespace Tend.TestChild;

/// <summary>
/// The smallest HTTP/1.1 server a load test can trust: every request gets 200 with
/// "pid=&lt;pid&gt; instance=&lt;TEND_INSTANCE&gt;", keep-alive is honoured, Content-Length always set.
/// </summary>
/// <remarks>
/// Stopping is what makes a zero-downtime reload possible: the listening copy is closed at once (the
/// kernel then gives new connections to the other instances, or keeps them queued in the daemon's
/// socket), and every open connection answers its next request with "Connection: close" before it is
/// closed, so a busy keep-alive client never has a request dropped mid-flight. A connection that sends
/// nothing for <c>idleGrace</c> after the stop is closed; the server is done when none is left.
/// </remarks>
internal sealed class HttpServer
{
    private const int MaxHeaderBytes = 64 * 1024;

    private readonly Socket _listener;
    private readonly byte[] _body;
    private readonly CancellationTokenSource _idleCutoff = new();
    private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly object _gate = new();
    private int _open;
    private bool _stopping;

    public HttpServer(Socket listener, int pid, string? instance)
    {
        _listener = listener;
        _body = Encoding.ASCII.GetBytes($"pid={pid} instance={instance}\n");
    }

    /// <summary>Completes once stopped and every connection is closed.</summary>
    public Task Completion => _done.Task;

    public void Start() => _ = AcceptLoopAsync();

    public void Stop(TimeSpan idleGrace)
    {
        lock (_gate)
        {
            if (_stopping) return;
            _stopping = true;
        }
        _listener.Dispose();
        _idleCutoff.CancelAfter(idleGrace);
        CompleteIfIdle();
    }

    private async Task AcceptLoopAsync()
    {
        while (true)
        {
            Socket connection;
            try
            {
                connection = await _listener.AcceptAsync();
            }
            catch (Exception e) when (e is ObjectDisposedException or SocketException)
            {
                if (!Volatile.Read(ref _stopping)) Console.Error.WriteLine($"testchild: accept: {e.Message}");
                return;
            }
            lock (_gate)
            {
                if (_stopping)
                {
                    connection.Dispose();
                    continue;
                }
                _open++;
            }
            _ = ServeAsync(connection);
        }
    }

    private async Task ServeAsync(Socket connection)
    {
        var buffer = new byte[MaxHeaderBytes];
        int filled = 0;
        try
        {
            while (true)
            {
                int end;
                while ((end = buffer.AsSpan(0, filled).IndexOf("\r\n\r\n"u8)) < 0)
                {
                    if (filled == buffer.Length) return;
                    int n = await connection.ReceiveAsync(buffer.AsMemory(filled), SocketFlags.None, _idleCutoff.Token);
                    if (n == 0) return;
                    filled += n;
                }
                var (keepAlive, contentLength) = ParseHeaders(Encoding.ASCII.GetString(buffer, 0, end));
                int consumed = end + 4;
                // Skip a request body; nothing here needs one.
                long toSkip = contentLength;
                int inBuffer = (int)Math.Min(toSkip, filled - consumed);
                consumed += inBuffer;
                toSkip -= inBuffer;
                Buffer.BlockCopy(buffer, consumed, buffer, 0, filled - consumed);
                filled -= consumed;
                while (toSkip > 0)
                {
                    int n = await connection.ReceiveAsync(buffer.AsMemory(0, (int)Math.Min(toSkip, buffer.Length)), SocketFlags.None, _idleCutoff.Token);
                    if (n == 0) return;
                    toSkip -= n;
                }

                bool close = !keepAlive || Volatile.Read(ref _stopping);
                byte[] head = Encoding.ASCII.GetBytes(
                    $"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {_body.Length}\r\nConnection: {(close ? "close" : "keep-alive")}\r\n\r\n");
                await connection.SendAsync(head, SocketFlags.None);
                await connection.SendAsync(_body, SocketFlags.None);
                if (close)
                {
                    connection.Shutdown(SocketShutdown.Send);
                    return;
                }
            }
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The client went away, or it stayed idle past the stop: either way this connection is done.
        }
        finally
        {
            connection.Dispose();
            lock (_gate) _open--;
            CompleteIfIdle();
        }
    }

    private void CompleteIfIdle()
    {
        lock (_gate)
        {
            if (_stopping && _open == 0) _done.TrySetResult();
        }
    }

    private static (bool KeepAlive, long ContentLength) ParseHeaders(string head)
    {
        string[] lines = head.Split("\r\n");
        bool keepAlive = !lines[0].EndsWith("HTTP/1.0", StringComparison.Ordinal);
        long contentLength = 0;
        foreach (string line in lines.Skip(1))
        {
            int colon = line.IndexOf(':');
            if (colon < 0) continue;
            string name = line[..colon].Trim();
            string value = line[(colon + 1)..].Trim();
            if (name.Equals("Connection", StringComparison.OrdinalIgnoreCase))
            {
                if (value.Contains("close", StringComparison.OrdinalIgnoreCase)) keepAlive = false;
                else if (value.Contains("keep-alive", StringComparison.OrdinalIgnoreCase)) keepAlive = true;
            }
            else if (name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase))
            {
                contentLength = long.Parse(value, System.Globalization.CultureInfo.InvariantCulture);
            }
        }
        return (keepAlive, contentLength);
    }
}
