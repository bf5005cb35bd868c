using Tend.Alerts;
using Tend.Api;

namespace Tend.Daemon;

/// <summary>GET /v1/alerts: the alert engine's report, mapped to the wire.</summary>
internal static class AlertEndpoints
{
    public static void MapAlerts(this WebApplication app)
    {
        app.MapGet(ApiRoutes.Alerts, (AlertEngine alerts) => Results.Json(ToWire(alerts.Report()), TendJsonContext.Default.AlertsInfo));
    }

    public static AlertsInfo ToWire(AlertsReport r) => new(
        [.. r.Active.Select(ToWire)], [.. r.Recent.Select(ToWire)], r.Rules, r.Channels,
        r.Outbox.Pending, r.Outbox.Delivered, r.Outbox.Failed,
        [.. r.Outbox.Undeliverable.Select(u => new UndeliverableInfo(u.Id, u.Channel, u.Fingerprint, u.Rule, u.App, u.Status, u.CreatedAt, u.GaveUpAt, u.Attempts, u.LastError))]);

    public static AlertInfo ToWire(AlertSnapshot a) => new(
        a.Fingerprint, a.Rule, a.App, a.Instance, a.State.ToString().ToLowerInvariant(), a.Severity, a.Summary, a.Description, a.Value,
        a.Since, a.FiredAt, a.ResolvedAt, a.ResolvedBecause, a.InhibitedBy, a.Repeats, a.Notifications, a.Source);
}
