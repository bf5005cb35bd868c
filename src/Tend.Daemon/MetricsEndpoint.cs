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
internal sealed class DaemonMetrics(Supervisor supervisor, Tend.Alerts.AlertEngine alerts)
{
    public ApiRequestCounter Requests { get; } = new();

    public void Collect(PrometheusWriter w) => TendMetrics.Collect(supervisor, w, w =>
    {
        Requests.Write(w);
        WriteAlerts(w);
        w.Family("tend_build_info", MetricType.Gauge, "Always 1; the daemon's version in a label.");
        w.Sample(1, ("version", ThisAssembly.Version));
    });

    /// <summary>Prometheus' own ALERTS series for every pending or firing alert, and the outbox's figures (docs/alerts.md#metrics).</summary>
    private void WriteAlerts(PrometheusWriter w)
    {
        w.Family("ALERTS", MetricType.Gauge, "1 for every pending or firing Tend alert, as Prometheus names its own.");
        foreach (Tend.Alerts.AlertSnapshot a in alerts.Active())
        {
            w.Sample(1, ("alertname", a.Rule), ("alertstate", a.State.ToString().ToLowerInvariant()), ("app", a.App),
                ("instance", a.Instance?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? ""), ("severity", a.Severity));
        }
        Tend.Alerts.OutboxReport outbox = alerts.Outbox();
        w.Family("tend_alert_deliveries_total", MetricType.Counter, "Notification delivery attempts, by outcome.");
        w.Sample(outbox.Delivered, ("outcome", "delivered"));
        w.Sample(outbox.Failed, ("outcome", "failed"));
        w.Family("tend_alert_outbox_pending", MetricType.Gauge, "Notifications waiting in the outbox for a channel.");
        foreach (var (channel, count) in alerts.OutboxPending()) w.Sample(count, ("channel", channel));
        w.Family("tend_alert_undeliverable", MetricType.Gauge, "Notifications given up on that this daemon remembers (alerts/undeliverable.jsonl has them all).");
        w.Sample(outbox.Undeliverable.Count);
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
