using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using Tend.Api;
using Tend.Metrics;
using Tend.Supervision;

namespace Tend.Daemon;

/// <summary>
/// GET /metrics, on the unix socket and on the health listener: one pass of
/// <see cref="DaemonMetrics"/>, in the text exposition.
/// </summary>
internal static class MetricsEndpoint
{
    public static void MapMetrics(this WebApplication app)
    {
        var metrics = app.Services.GetRequiredService<DaemonMetrics>();

        // Outermost, so it sees the status the error handler below it wrote.
        app.Use(async (context, next) =>
        {
            try { await next(context); }
            finally
            {
                string route = (context.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText ?? "unmatched";
                metrics.Requests.Count(context.Request.Method, route, context.Response.StatusCode);
            }
        });

        app.MapGet(ApiRoutes.Metrics, async (HttpContext context) =>
        {
            var text = new StringWriter(new StringBuilder(64 * 1024), CultureInfo.InvariantCulture);
            metrics.Collect(new PrometheusWriter(text));
            context.Response.ContentType = PrometheusWriter.ContentType;
            await context.Response.WriteAsync(text.ToString(), context.RequestAborted);
        });
    }
}

/// <summary>
/// Everything the daemon exports, as one collection pass: the engine's series
/// (<see cref="TendMetrics"/>) plus the daemon's own API request counts and build info. The one
/// source for both /metrics and the OTLP export (<see cref="MeterBridge"/>).
/// </summary>
internal sealed class DaemonMetrics(Supervisor supervisor)
{
    public ApiRequestCounter Requests { get; } = new();

    public void Collect(PrometheusWriter w) => TendMetrics.Collect(supervisor, w, w =>
    {
        Requests.Write(w);
        w.Family("tend_build_info", MetricType.Gauge, "Always 1; the daemon's version in a label.");
        w.Sample(1, ("version", ThisAssembly.Version));
    });
}

/// <summary>Requests served, by method, route pattern (never the raw path: app names would multiply the series) and status code.</summary>
internal sealed class ApiRequestCounter
{
    private readonly ConcurrentDictionary<(string Method, string Route, int Code), long> _counts = new();

    public void Count(string method, string route, int code) =>
        _counts.AddOrUpdate((method, route, code), 1, static (_, n) => n + 1);

    public void Write(PrometheusWriter w)
    {
        w.Family("tend_api_requests_total", MetricType.Counter, "HTTP requests the daemon served (control socket and health listener), by method, route and status code.");
        foreach (var ((method, route, code), count) in _counts.OrderBy(e => e.Key.Route, StringComparer.Ordinal).ThenBy(e => e.Key.Code))
            w.Sample(count, ("method", method), ("route", route), ("code", code.ToString(CultureInfo.InvariantCulture)));
    }
}
