using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Tend.Api;

namespace Tend.Cli.Commands;

/// <summary>`tend alerts`: pending and firing alerts, then the recently resolved, and the outbox (docs/alerts.md).</summary>
internal sealed class AlertsCommand : TendCommand
{
    private readonly Option<bool> _json = new("--json") { Description = "Print the report as JSON" };
    private readonly Option<int> _recent = new("--recent") { Description = "How many resolved alerts to show", DefaultValueFactory = _ => 10, HelpName = "N" };

    public AlertsCommand(CliContext context) : base("alerts", "Show pending and firing alerts, the recently resolved ones, and undelivered notifications.", context)
    {
        Add(_json);
        Add(_recent);
        _recent.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() < 0) r.AddError("--recent must be 0 or more");
        });
    }

    protected override async Task<int> ExecuteAsync(ParseResult parseResult, CancellationToken ct)
    {
        using DaemonClient client = Context.CreateClient(autoStart: false);
        AlertsInfo report = await client.GetAsync(ApiRoutes.Alerts, TendJsonContext.Default.AlertsInfo, ct).ConfigureAwait(false);
        TextWriter output = Out(parseResult);
        if (parseResult.GetValue(_json))
        {
            output.WriteLine(JsonSerializer.Serialize(report, TendJsonContext.Default.AlertsInfo));
            return 0;
        }
        output.Write(Render(report, parseResult.GetValue(_recent), Context.TimeZone, DateTimeOffset.UtcNow));
        return 0;
    }

    internal static string Render(AlertsInfo r, int recent, TimeZoneInfo zone, DateTimeOffset now)
    {
        var text = new StringBuilder();
        if (r.Rules == 0)
        {
            text.AppendLine("no alert rules: add alerts: to a tend.yaml and tend start it (docs/alerts.md)");
            return text.ToString();
        }
        text.AppendLine(CultureInfo.InvariantCulture, $"{r.Rules} rule(s); channels: {(r.Channels.Count == 0 ? "none" : string.Join(", ", r.Channels))}");
        if (r.Active.Count == 0) text.AppendLine("no active alerts");
        else
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"active ({r.Active.Count}):");
            foreach (AlertInfo a in r.Active)
            {
                string state = a.State.ToUpperInvariant() + (a.InhibitedBy is { } by ? $" (muted by {by})" : "");
                string since = Ago(now - (a.FiredAt ?? a.Since));
                text.AppendLine(CultureInfo.InvariantCulture, $"  {state,-8} {a.Severity,-8} {a.Rule}  {Label(a)}  since {since}  {a.Summary}");
                text.AppendLine(CultureInfo.InvariantCulture, $"           {a.Description}");
            }
        }
        var resolved = r.Recent.Take(recent).ToList();
        if (resolved.Count > 0)
        {
            text.AppendLine("recently resolved:");
            foreach (AlertInfo a in resolved)
            {
                string at = a.ResolvedAt is { } t ? TimeZoneInfo.ConvertTime(t, zone).ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) : "";
                text.AppendLine(CultureInfo.InvariantCulture, $"  {at}  {a.Rule}  {Label(a)}  {a.Summary} — {a.ResolvedBecause}");
            }
        }
        if (r.OutboxPending > 0) text.AppendLine(CultureInfo.InvariantCulture, $"outbox: {r.OutboxPending} notification(s) waiting for a channel (retried with backoff)");
        if (r.Undeliverable.Count > 0)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"undeliverable ({r.Undeliverable.Count}, also in alerts/undeliverable.jsonl):");
            foreach (UndeliverableInfo u in r.Undeliverable.TakeLast(10))
                text.AppendLine(CultureInfo.InvariantCulture, $"  {u.Rule} ({u.Status}) to {u.Channel} after {u.Attempts} attempts: {u.LastError}");
        }
        return text.ToString();
    }

    private static string Label(AlertInfo a) => a.Instance is int n ? $"{a.App}#{n}" : a.App;

    private static string Ago(TimeSpan span) =>
        span < TimeSpan.FromMinutes(1) ? $"{Math.Max(0, (int)span.TotalSeconds)}s ago"
        : span < TimeSpan.FromHours(1) ? $"{(int)span.TotalMinutes}m ago"
        : span < TimeSpan.FromDays(1) ? $"{(int)span.TotalHours}h ago"
        : $"{(int)span.TotalDays}d ago";
}
