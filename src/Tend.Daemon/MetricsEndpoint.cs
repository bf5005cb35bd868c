using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using Tend.Api;
using Tend.Metrics;
using Tend.Supervision;

namespace Tend.Daemon;

/// <summary>
/// GET /metrics, on the unix socket and on the health listener: the engine's series
/// (<see cref="TendMetrics"/>) plus the daemon's own API request counts and build info.
/// </summary>
internal static class MetricsEndpoint
{
    public static void MapMetrics(this WebApplication app)
    {
        var requests = new ApiRequestCounter();

        // Outermost, so it sees the status the error handler below it wrote.
        app.Use(async (context, next) =>
        {
            try { await next(context); }
            finally
            {
                string route = (context.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText ?? "unmatched";
                requests.Count(context.Request.Method, route, context.Response.StatusCode);
            }
        });

        app.MapGet(ApiRoutes.Metrics, async (HttpContext context, Supervisor supervisor) =>
        {
            var text = new StringWriter(new StringBuilder(64 * 1024), CultureInfo.InvariantCulture);
            TendMetrics.Collect(supervisor, text, w =>
            {
                requests.Write(w);
                w.Family("tend_build_info", MetricType.Gauge, "Always 1; the daemon's version in a label.");
                w.Sample(1, ("version", ThisAssembly.Version));
            });
            context.Response.ContentType = PrometheusWriter.ContentType;
            await context.Response.WriteAsync(text.ToString(), context.RequestAborted);
        });
    }
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
