using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Tend.Api;

namespace Tend.Cli;

/// <summary>
/// HTTP/JSON to the daemon over $TEND_HOME/tend.sock. Every answer is read through
/// <see cref="TendJsonContext"/> (no reflection-based JSON: it would cost startup time).
/// A non-2xx answer becomes a <see cref="CliException"/> carrying the daemon's
/// <see cref="ErrorResponse"/>. When nothing listens on the socket, the client asks
/// <c>ensureRunning</c> to start the daemon and tries once more; without it, it throws
/// <see cref="DaemonNotRunningException"/>.
/// </summary>
internal sealed class DaemonClient : IDisposable
{
    private static readonly MediaTypeHeaderValue s_json = new("application/json");

    private readonly HttpClient _http;
    private readonly string _home;
    private readonly Func<string, CancellationToken, Task>? _ensureRunning;

    public DaemonClient(string home, Func<string, CancellationToken, Task>? ensureRunning)
    {
        _home = home;
        _ensureRunning = ensureRunning;
        // No client-side timeout: `logs` follows forever and `stop` may wait out a long kill ladder.
        // Ctrl-C is the way out, through the cancellation token.
        _http = new HttpClient(CreateSocketHandler(home), disposeHandler: true)
        {
            BaseAddress = new Uri("http://tend/"),
            Timeout = Timeout.InfiniteTimeSpan,
        };
    }

    public async Task<T> GetAsync<T>(string path, JsonTypeInfo<T> type, CancellationToken ct)
    {
        using HttpResponseMessage response = await SendAsync(
            () => new HttpRequestMessage(HttpMethod.Get, path), HttpCompletionOption.ResponseContentRead, ct).ConfigureAwait(false);
        return await ReadAsync(response, type, ct).ConfigureAwait(false);
    }

    public async Task<TResponse> PostAsync<TRequest, TResponse>(
        string path, TRequest body, JsonTypeInfo<TRequest> requestType, JsonTypeInfo<TResponse> responseType, CancellationToken ct)
    {
        // Serialized once up front: a request may be sent twice (after auto-start), and a byte
        // array gives the daemon a Content-Length instead of a chunked body.
        byte[] json = JsonSerializer.SerializeToUtf8Bytes(body, requestType);
        using HttpResponseMessage response = await SendAsync(() => new HttpRequestMessage(HttpMethod.Post, path)
        {
            Content = new ByteArrayContent(json) { Headers = { ContentType = s_json } },
        }, HttpCompletionOption.ResponseContentRead, ct).ConfigureAwait(false);
        return await ReadAsync(response, responseType, ct).ConfigureAwait(false);
    }

    /// <summary>POST with no body (save, resurrect, kill).</summary>
    public async Task<TResponse> PostAsync<TResponse>(string path, JsonTypeInfo<TResponse> responseType, CancellationToken ct)
    {
        using HttpResponseMessage response = await SendAsync(
            () => new HttpRequestMessage(HttpMethod.Post, path), HttpCompletionOption.ResponseContentRead, ct).ConfigureAwait(false);
        return await ReadAsync(response, responseType, ct).ConfigureAwait(false);
    }

    /// <summary>GET whose body is read as it arrives (the NDJSON of /v1/logs). The caller disposes the response.</summary>
    public Task<HttpResponseMessage> GetStreamingAsync(string path, CancellationToken ct) =>
        SendAsync(() => new HttpRequestMessage(HttpMethod.Get, path), HttpCompletionOption.ResponseHeadersRead, ct);

    public void Dispose() => _http.Dispose();

    private async Task<HttpResponseMessage> SendAsync(
        Func<HttpRequestMessage> createRequest, HttpCompletionOption completion, CancellationToken ct)
    {
        for (int attempt = 0; ; attempt++)
        {
            HttpResponseMessage response;
            try
            {
                using HttpRequestMessage request = createRequest();
                response = await _http.SendAsync(request, completion, ct).ConfigureAwait(false);
            }
            catch (HttpRequestException ex) when (FindCliException(ex) is { } fromConnect)
            {
                // Only a failed connect is retried: the request never reached a daemon, so sending
                // it again cannot do anything twice.
                if (fromConnect is not DaemonNotRunningException || _ensureRunning is null || attempt > 0) throw fromConnect;
                await _ensureRunning(_home, ct).ConfigureAwait(false);
                continue;
            }
            catch (HttpRequestException ex)
            {
                throw new CliException($"lost the connection to the daemon: {ex.Message}", 1, null, ex);
            }

            if (response.IsSuccessStatusCode) return response;
            using (response)
            {
                throw await ToExceptionAsync(response, ct).ConfigureAwait(false);
            }
        }
    }

    /// <summary>HttpClient wraps what ConnectCallback throws; dig ours back out.</summary>
    private static CliException? FindCliException(Exception ex)
    {
        for (Exception? e = ex.InnerException; e is not null; e = e.InnerException)
        {
            if (e is CliException cli) return cli;
        }
        return null;
    }

    private static async Task<CliException> ToExceptionAsync(HttpResponseMessage response, CancellationToken ct)
    {
        string body = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
        ErrorResponse? error = null;
        try
        {
            error = JsonSerializer.Deserialize(body, TendJsonContext.Default.ErrorResponse);
        }
        catch (JsonException)
        {
            // Not one of ours (a proxy, a crash page): fall through to the status line.
        }
        if (error is null || string.IsNullOrEmpty(error.Error))
        {
            string detail = body.Trim();
            return new CliException(
                $"daemon answered {(int)response.StatusCode} {response.ReasonPhrase}",
                1,
                detail.Length == 0 ? null : [detail]);
        }
        // An error that claims success would make scripts think it worked.
        return new CliException(error.Error, error.ExitCode == 0 ? 1 : error.ExitCode, error.Details);
    }

    private static async Task<T> ReadAsync<T>(HttpResponseMessage response, JsonTypeInfo<T> type, CancellationToken ct)
    {
        try
        {
            Stream stream = await response.Content.ReadAsStreamAsync(ct).ConfigureAwait(false);
            return await JsonSerializer.DeserializeAsync(stream, type, ct).ConfigureAwait(false)
                ?? throw new CliException("the daemon sent an empty answer");
        }
        catch (JsonException ex)
        {
            throw new CliException(
                "the daemon sent an answer this tend cannot read (is the daemon from another version? try `tend kill`)",
                1, [ex.Message], ex);
        }
    }

    private static SocketsHttpHandler CreateSocketHandler(string home)
    {
        string socketPath = Path.Combine(home, ApiRoutes.SocketFileName);
        return new SocketsHttpHandler
        {
            UseProxy = false,
            UseCookies = false,
            AllowAutoRedirect = false,
            ConnectCallback = async (_, ct) =>
            {
                UnixDomainSocketEndPoint endPoint;
                try
                {
                    endPoint = new UnixDomainSocketEndPoint(socketPath);
                }
                catch (ArgumentException ex)
                {
                    // sun_path holds 108 bytes; a deep TEND_HOME does not fit.
                    throw new CliException($"TEND_HOME is too long for a unix socket path: {socketPath}", 2, null, ex);
                }
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                try
                {
                    await socket.ConnectAsync(endPoint, ct).ConfigureAwait(false);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch (SocketException ex) when (ex.SocketErrorCode is SocketError.AddressNotAvailable // ENOENT: no socket file
                    or SocketError.ConnectionRefused) // a socket file left behind by a daemon that died
                {
                    socket.Dispose();
                    throw new DaemonNotRunningException(home, ex);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        };
    }
}
