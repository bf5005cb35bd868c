using System.Net.Http;

namespace Tend.Health;

/// <summary>GET a URL; any 2xx or 3xx answer passes (Kubernetes' rule; redirects are not followed).</summary>
public sealed class HttpProbe : IProbe
{
    /// <summary>
    /// One client for every HTTP probe in the daemon: a handler per probe would cost a connection pool
    /// each. No proxy (the daemon's environment may name one, and a probe of 127.0.0.1 must not go
    /// through it); no redirects (a 302 to a login page means the server is up); no pooling across
    /// checks (every request says Connection: close, and pooled connections expire at once), so an app
    /// restarted on the same port is seen as the new process, never through a stale connection.
    /// </summary>
    private static readonly HttpClient s_client = new(new SocketsHttpHandler
    {
        UseProxy = false,
        AllowAutoRedirect = false,
        UseCookies = false,
        PooledConnectionLifetime = TimeSpan.Zero,
        PooledConnectionIdleTimeout = TimeSpan.FromSeconds(1),
    })
    {
        // Each check carries its own deadline.
        Timeout = Timeout.InfiniteTimeSpan,
    };

    private readonly Uri _url;
    private readonly TimeSpan _timeout;
    private readonly TimeProvider _time;

    public HttpProbe(Uri url, TimeSpan timeout, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(url);
        if (!url.IsAbsoluteUri || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps))
            throw new ArgumentException($"'{url}' is not an http:// or https:// URL", nameof(url));
        _url = url;
        _timeout = timeout;
        _time = time ?? TimeProvider.System;
    }

    public async Task<ProbeResult> CheckAsync(CancellationToken ct)
    {
        long started = _time.GetTimestamp();
        using var deadline = new CancellationTokenSource(_timeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, deadline.Token);
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, _url);
            request.Headers.ConnectionClose = true;
            request.Headers.UserAgent.ParseAdd("tend-probe");
            // Headers only: the status is the verdict, and a large body must not count against the timeout.
            using var response = await s_client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, linked.Token)
                .ConfigureAwait(false);
            int status = (int)response.StatusCode;
            return new ProbeResult(status is >= 200 and < 400, _time.GetElapsedTime(started), $"HTTP {status}");
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return ProbeText.TimedOut(_timeout, _time.GetElapsedTime(started));
        }
        catch (HttpRequestException e)
        {
            return new ProbeResult(false, _time.GetElapsedTime(started), ProbeText.Describe(e));
        }
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    public override string ToString() => $"http {_url}";
}
