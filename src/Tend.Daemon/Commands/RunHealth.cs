using System.Globalization;
using System.Net;
using System.Text;
using Tend.Api;
using Tend.Supervision;

namespace Tend.Daemon.Commands;

/// <summary>
/// `tend run`'s health listener (docs/kubernetes.md): what a kubelet's probes and a Dockerfile's
/// HEALTHCHECK ask — GET /health (503 when a critical app is down), /ready (200 once every app is
/// ready), /live, /apps/NAME/health (200 with a ready instance; 404 for no such app). It answers in
/// plain text. Listens on TEND_HEALTH ("host:port" or "off"); without it, on 0.0.0.0:8363 inside a
/// container (a pod must reach it) and not at all elsewhere, where the daemon's listener has that
/// port. Built on the runtime's HttpListener: `tend run` does not carry ASP.NET.
/// </summary>
internal sealed class RunHealth : IDisposable
{
    private readonly HttpListener _listener;
    private readonly Supervisor _supervisor;
    private readonly Task _loop;

    private RunHealth(HttpListener listener, Supervisor supervisor)
    {
        _listener = listener;
        _supervisor = supervisor;
        _loop = Task.Run(ServeAsync);
    }

    /// <summary>The address to listen on, or null for none.</summary>
    public static string? Address(Func<string, string?> env, bool underInit)
    {
        string? setting = env("TEND_HEALTH");
        if (setting is { Length: > 0 }) return setting == "off" ? null : setting;
        return InContainer(env, underInit) ? "0.0.0.0:" + ApiRoutes.DefaultHealthAddress.Split(':')[^1] : null;
    }

    /// <summary>Docker and podman leave a marker file; Kubernetes sets its service variables; `tend run` as PID 1 is one too.</summary>
    internal static bool InContainer(Func<string, string?> env, bool underInit) =>
        underInit || env("KUBERNETES_SERVICE_HOST") is not null || env("container") is not null
        || File.Exists("/.dockerenv") || File.Exists("/run/.containerenv");

    /// <summary>Starts listening; null with the reason written to stderr when the address cannot be had (the run goes on without it).</summary>
    public static RunHealth? Start(string address, Supervisor supervisor)
    {
        int colon = address.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(address[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out int port) || port > 65535)
        {
            Console.Error.WriteLine($"tend run: TEND_HEALTH={address}: expected host:port or off; no health listener");
            return null;
        }
        if (port == 0) return null; // "any free port" is what the daemon takes; a probe could not know it, so none
        string host = address[..colon].Trim('[', ']');
        var listener = new HttpListener();
        listener.Prefixes.Add($"http://{(host is "0.0.0.0" or "::" or "*" ? "*" : host.Contains(':') ? $"[{host}]" : host)}:{port}/");
        try
        {
            listener.Start();
        }
        catch (Exception e) when (e is HttpListenerException or System.Net.Sockets.SocketException or InvalidOperationException)
        {
            Console.Error.WriteLine($"tend run: health listener on {address}: {e.Message}; the run goes on without it");
            listener.Close();
            return null;
        }
        return new RunHealth(listener, supervisor);
    }

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try { context = await _listener.GetContextAsync().ConfigureAwait(false); }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException) { return; }
            try { Answer(context); }
            catch (Exception e) when (e is HttpListenerException or IOException or ObjectDisposedException) { }
        }
    }

    private void Answer(HttpListenerContext context)
    {
        string path = context.Request.Url?.AbsolutePath ?? "/";
        (int status, string body) = context.Request.HttpMethod is not ("GET" or "HEAD") ? (405, "GET only\n") : path switch
        {
            ApiRoutes.Live => (200, "alive\n"),
            ApiRoutes.Health => Overall(),
            ApiRoutes.Ready => AllReady(),
            _ when path.StartsWith(ApiRoutes.AppHealthPrefix, StringComparison.Ordinal) && path.EndsWith("/health", StringComparison.Ordinal) =>
                App(Uri.UnescapeDataString(path[ApiRoutes.AppHealthPrefix.Length..^"/health".Length])),
            _ => (404, "not found: /health, /ready, /live or /apps/NAME/health\n"),
        };
        byte[] bytes = Encoding.UTF8.GetBytes(body);
        context.Response.StatusCode = status;
        context.Response.ContentType = "text/plain; charset=utf-8";
        context.Response.ContentLength64 = bytes.Length;
        if (context.Request.HttpMethod == "GET") context.Response.OutputStream.Write(bytes);
        context.Response.Close();
    }

    private (int, string) Overall()
    {
        IReadOnlyList<AppHealthState> apps = _supervisor.AppsHealth();
        HealthTier tier = AppHealthReader.Overall(apps);
        return (tier == HealthTier.Critical ? 503 : 200, tier.ToString().ToLowerInvariant() + "\n" + Lines(apps));
    }

    private (int, string) AllReady()
    {
        IReadOnlyList<AppHealthState> apps = _supervisor.AppsHealth();
        bool ready = AppHealthReader.AllReady(apps);
        return (ready ? 200 : 503, (ready ? "ready" : "not ready") + "\n" + Lines(apps));
    }

    private (int, string) App(string name) => _supervisor.AppHealthOf(name) is { } app
        ? (app.Ready > 0 ? 200 : 503, Lines([app]))
        : (404, $"no app named \"{name}\"\n");

    private static string Lines(IEnumerable<AppHealthState> apps) =>
        string.Concat(apps.Select(a => string.Create(CultureInfo.InvariantCulture, $"{a.Name}: {a.Tier.ToString().ToLowerInvariant()}, {a.Ready}/{a.Wanted} ready\n")));

    public void Dispose()
    {
        _listener.Close();
        try { _loop.Wait(TimeSpan.FromSeconds(2)); }
        catch (AggregateException) { }
    }
}
