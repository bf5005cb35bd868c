using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Tend.Api;

namespace Tend.Cli;

/// <summary>
/// HTTP/JSON to the daemon over $TEND_HOME/tend.sock, spoken by hand.
///
/// Why not HttpClient: `tend list` is benchmarked against `pm2 jlist`, and HttpClient with a
/// SocketsHttpHandler costs about 70 ms of start-up (JIT and type loading) for one request on a
/// local socket — more than the rest of the CLI together. The daemon is ours and we only need one
/// request per connection, so this client sends HTTP/1.0 requests with Content-Length and reads
/// the answer to end of stream: an HTTP/1.0 client gets no chunked encoding and the server closes
/// the connection when the body is complete. The daemon is still a real HTTP server (curl works).
///
/// A non-2xx answer becomes a <see cref="CliException"/> carrying the daemon's
/// <see cref="ErrorResponse"/>. When nothing listens on the socket, the client asks
/// <c>ensureRunning</c> to start the daemon and tries once more; without it, it throws
/// <see cref="DaemonNotRunningException"/>. Only a failed connect is retried: such a request
/// never reached a daemon, so sending it again cannot do anything twice.
/// </summary>
internal sealed class DaemonClient : IDisposable
{
    private readonly string _home;
    private readonly string _socketPath;
    private readonly Func<string, CancellationToken, Task>? _ensureRunning;

    public DaemonClient(string home, Func<string, CancellationToken, Task>? ensureRunning)
    {
        _home = home;
        _socketPath = Path.Combine(home, ApiRoutes.SocketFileName);
        _ensureRunning = ensureRunning;
    }

    /// <summary>
    /// How long a read (list, describe, ping…) waits for the daemon's answer: 30 s, or TEND_TIMEOUT
    /// (a duration such as 10s). A daemon that accepts and never answers must not hang a script
    /// for ever. Actions (stop with a long kill_timeout, a reload waiting for readiness) and the
    /// follow modes have no such limit: they may legitimately take long.
    /// </summary>
    internal static TimeSpan ReadTimeout =>
        Environment.GetEnvironmentVariable("TEND_TIMEOUT") is { Length: > 0 } text && Config.Units.TryParseDuration(text, out TimeSpan t) && t > TimeSpan.Zero
            ? t
            : TimeSpan.FromSeconds(30);

    public async Task<T> GetAsync<T>(string path, JsonTypeInfo<T> type, CancellationToken ct)
    {
        using DaemonResponse response = await SendAsync("GET", path, null, ct, ReadTimeout).ConfigureAwait(false);
        return Read(response, type);
    }

    /// <summary>GET, returning the body as text (for output that is the daemon's JSON as it is).</summary>
    public async Task<string> GetRawAsync(string path, CancellationToken ct)
    {
        using DaemonResponse response = await SendAsync("GET", path, null, ct, ReadTimeout).ConfigureAwait(false);
        return Encoding.UTF8.GetString(response.ReadToEnd().Span).TrimEnd('\n');
    }

    /// <summary>A GET's body read by <paramref name="read"/> (a reader of the bytes that needs no serializer metadata).</summary>
    public async Task<T> GetAsync<T>(string path, Func<ReadOnlyMemory<byte>, T> read, CancellationToken ct)
    {
        using DaemonResponse response = await SendAsync("GET", path, null, ct, ReadTimeout).ConfigureAwait(false);
        try
        {
            return read(response.ReadToEnd());
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or FormatException)
        {
            throw new CliException(
                "the daemon sent an answer this tend cannot read (is the daemon from another version? try `tend kill`)",
                1, [ex.Message], ex);
        }
    }

    public async Task<TResponse> PostAsync<TRequest, TResponse>(
        string path, TRequest body, JsonTypeInfo<TRequest> requestType, JsonTypeInfo<TResponse> responseType, CancellationToken ct)
    {
        byte[] json = JsonSerializer.SerializeToUtf8Bytes(body, requestType);
        using DaemonResponse response = await SendAsync("POST", path, json, ct).ConfigureAwait(false);
        return Read(response, responseType);
    }

    /// <summary>POST with no body (save, resurrect, kill).</summary>
    public async Task<TResponse> PostAsync<TResponse>(string path, JsonTypeInfo<TResponse> responseType, CancellationToken ct)
    {
        using DaemonResponse response = await SendAsync("POST", path, [], ct).ConfigureAwait(false);
        return Read(response, responseType);
    }

    /// <summary>DELETE (tend diag rm).</summary>
    public async Task<TResponse> DeleteAsync<TResponse>(string path, JsonTypeInfo<TResponse> responseType, CancellationToken ct)
    {
        using DaemonResponse response = await SendAsync("DELETE", path, null, ct, ReadTimeout).ConfigureAwait(false);
        return Read(response, responseType);
    }

    /// <summary>GET whose body is read as it arrives (the NDJSON of /v1/logs). The caller disposes the response.</summary>
    public Task<DaemonResponse> GetStreamingAsync(string path, CancellationToken ct) => SendAsync("GET", path, null, ct);

    public void Dispose() { }

    private async Task<DaemonResponse> SendAsync(string method, string path, byte[]? body, CancellationToken ct, TimeSpan? timeout = null)
    {
        for (int attempt = 0; ; attempt++)
        {
            Socket socket;
            try
            {
                socket = Connect();
            }
            catch (DaemonNotRunningException) when (_ensureRunning is not null && attempt == 0)
            {
                await _ensureRunning(_home, ct).ConfigureAwait(false);
                continue;
            }

            DaemonResponse response;
            try
            {
                if (timeout is { } limit) socket.ReceiveTimeout = (int)limit.TotalMilliseconds;
                SendRequest(socket, method, path, body);
                response = DaemonResponse.Read(socket, ct);
            }
            catch (Exception ex) when (ex is SocketException or IOException)
            {
                socket.Dispose();
                if ((ex as SocketException ?? ex.InnerException as SocketException)?.SocketErrorCode == SocketError.TimedOut)
                    throw new CliException(
                        $"the daemon took the request but did not answer within {Config.Units.FormatDuration(timeout!.Value)}",
                        1, [$"it may be stuck: look at {Path.Combine(_home, "daemon.log")}, or restart it with `tend kill`",
                            "TEND_TIMEOUT=2m (say) waits longer"], ex);
                throw new CliException($"lost the connection to the daemon: {ex.Message}", 1, null, ex);
            }

            if (response.Status is >= 200 and < 300) return response;
            using (response) throw ToException(response);
        }
    }

    private Socket Connect()
    {
        UnixDomainSocketEndPoint endPoint;
        try
        {
            endPoint = new UnixDomainSocketEndPoint(_socketPath);
        }
        catch (ArgumentException ex)
        {
            // sun_path holds 108 bytes; a deep TEND_HOME does not fit.
            throw new CliException($"TEND_HOME is too long for a unix socket path: {_socketPath}", 2, null, ex);
        }
        // Before anything is sent: a request carries our environment, and a home or socket another
        // user controls would hand it to them (HomeTrust).
        if ((Security.HomeTrust.Problem(_home, rootMayOwn: true) ?? Security.HomeTrust.SocketProblem(_socketPath)) is { } untrusted)
            throw new CliException(untrusted, 2);
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            socket.Connect(endPoint);
            return socket;
        }
        catch (SocketException ex) when (ex.SocketErrorCode is SocketError.AddressNotAvailable // ENOENT: no socket file
            or SocketError.ConnectionRefused) // a socket file left behind by a daemon that died
        {
            socket.Dispose();
            throw new DaemonNotRunningException(_home, ex);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private static void SendRequest(Socket socket, string method, string path, byte[]? body)
    {
        var head = new StringBuilder(128)
            .Append(method).Append(' ').Append(path).Append(" HTTP/1.0\r\nHost: tend\r\n");
        if (body is not null)
            head.Append("Content-Type: application/json\r\nContent-Length: ").Append(body.Length).Append("\r\n");
        head.Append("\r\n");
        byte[] headBytes = Encoding.ASCII.GetBytes(head.ToString());
        byte[] request = body is { Length: > 0 } ? [.. headBytes, .. body] : headBytes;
        int sent = 0;
        while (sent < request.Length) sent += socket.Send(request.AsSpan(sent));
    }

    private static CliException ToException(DaemonResponse response)
    {
        ReadOnlyMemory<byte> body = response.ReadToEnd();
        ErrorResponse? error = null;
        try
        {
            error = JsonSerializer.Deserialize(body.Span, TendJsonContext.Default.ErrorResponse);
        }
        catch (JsonException)
        {
            // Not one of ours (a crash page): fall through to the status line.
        }
        if (error is null || string.IsNullOrEmpty(error.Error))
        {
            // Kestrel's own refusals, before a handler ran: say what was too big.
            if (response.Status == 414)
                return new CliException("the request is too long: a target or name longer than Tend allows (app names have at most 64 characters)", 2);
            if (response.Status == 413)
                return new CliException("the request is too large: the daemon takes at most 4 MiB (an app's environment and arguments: 1 MiB)", 2);
            string detail = Encoding.UTF8.GetString(body.Span).Trim();
            return new CliException($"daemon answered {response.Status}", 1, detail.Length == 0 ? null : [detail]);
        }
        // An error that claims success would make scripts think it worked.
        return new CliException(error.Error, error.ExitCode == 0 ? 1 : error.ExitCode, error.Details);
    }

    private static T Read<T>(DaemonResponse response, JsonTypeInfo<T> type)
    {
        try
        {
            return JsonSerializer.Deserialize(response.ReadToEnd().Span, type)
                ?? throw new CliException("the daemon sent an empty answer");
        }
        catch (JsonException ex)
        {
            throw new CliException(
                "the daemon sent an answer this tend cannot read (is the daemon from another version? try `tend kill`)",
                1, [ex.Message], ex);
        }
    }
}

/// <summary>
/// The status and body of one answer. The body runs to the end of the connection (HTTP/1.0);
/// cancelling the token closes the socket, which ends a blocked read of a followed log stream.
/// </summary>
internal sealed class DaemonResponse : IDisposable
{
    private readonly Socket _socket;
    private readonly CancellationToken _ct;
    private readonly CancellationTokenRegistration _cancel;

    private DaemonResponse(Socket socket, int status, Stream body, CancellationToken ct)
    {
        _socket = socket;
        Status = status;
        Body = body;
        _ct = ct;
        _cancel = ct.Register(static s => ((Socket)s!).Dispose(), socket);
    }

    public int Status { get; }

    public Stream Body { get; }

    /// <summary>Reads the status line and headers; what follows them is the body.</summary>
    public static DaemonResponse Read(Socket socket, CancellationToken ct)
    {
        var stream = new NetworkStream(socket, ownsSocket: true);
        byte[] buffer = new byte[16 * 1024];
        int filled = 0;
        int headerEnd;
        while ((headerEnd = buffer.AsSpan(0, filled).IndexOf("\r\n\r\n"u8)) < 0)
        {
            if (filled == buffer.Length) throw new IOException("the daemon's answer has over 16 KiB of headers");
            int n = stream.Read(buffer, filled, buffer.Length - filled);
            if (n == 0) throw new IOException("the daemon closed the connection before answering");
            filled += n;
        }
        // "HTTP/1.1 200 OK"
        ReadOnlySpan<byte> statusLine = buffer.AsSpan(0, buffer.AsSpan(0, headerEnd).IndexOf("\r\n"u8) is int eol and >= 0 ? eol : headerEnd);
        int space = statusLine.IndexOf((byte)' ');
        if (space < 0 || statusLine.Length < space + 4 || !int.TryParse(statusLine.Slice(space + 1, 3), out int status))
            throw new IOException("the daemon's answer has no HTTP status line");
        int bodyStart = headerEnd + 4;
        var body = new PrefixedStream(buffer, bodyStart, filled - bodyStart, stream);
        return new DaemonResponse(socket, status, body, ct);
    }

    public ReadOnlyMemory<byte> ReadToEnd()
    {
        // Not Stream.CopyTo: it rents an 80 KB buffer, a fresh 128 KB array in a process this short,
        // and copies it all once more into a MemoryStream. One buffer that grows as it must holds
        // the list of 100 instances (23 KB) in its first size.
        byte[] all = new byte[32 * 1024];
        int filled = 0;
        try
        {
            int n;
            while ((n = Body.Read(all, filled, all.Length - filled)) > 0)
            {
                filled += n;
                if (filled == all.Length) Array.Resize(ref all, all.Length * 2);
            }
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException)
        {
            // Cancelling closes the socket under the read: that is a cancellation, not a lost
            // daemon (a caller polling with a timeout, like the launcher's ping, relies on it).
            if (_ct.IsCancellationRequested) throw new OperationCanceledException("the daemon's answer was cut short by the timeout", ex, _ct);
            throw new CliException($"lost the connection to the daemon: {ex.Message}", 1, null, ex);
        }
        return all.AsMemory(0, filled);
    }

    public void Dispose()
    {
        _cancel.Dispose();
        Body.Dispose();
        _socket.Dispose();
    }

    /// <summary>The bytes already read past the headers, then the rest of the connection.</summary>
    private sealed class PrefixedStream(byte[] prefix, int offset, int count, Stream rest) : Stream
    {
        private int _offset = offset;
        private int _count = count;

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            if (_count > 0)
            {
                int n = Math.Min(_count, buffer.Length);
                prefix.AsSpan(_offset, n).CopyTo(buffer);
                _offset += n;
                _count -= n;
                return n;
            }
            return rest.Read(buffer);
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_count > 0) return Read(buffer.Span);
            return await rest.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing) rest.Dispose();
            base.Dispose(disposing);
        }
    }
}
