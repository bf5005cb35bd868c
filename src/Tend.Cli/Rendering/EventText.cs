using System.Globalization;
using Tend.Api;

namespace Tend.Cli.Rendering;

/// <summary>One line of `tend events`: <c>2026-11-21 17:05:01  #42  web#0  exited  exit code 1 after 2.3s</c>.</summary>
internal static class EventText
{
    public static string Render(TendEvent e, TimeZoneInfo zone, bool color)
    {
        string seq = e.Seq > 0 ? "#" + e.Seq.ToString(CultureInfo.InvariantCulture) : "-";
        return $"{Format.Timestamp(e.Time, zone)}  {Ansi.Paint(seq, Ansi.Grey, color)}  {Subject(e)}  {Ansi.Paint(e.Type, ColorOf(e.Type), color)}  {e.Message}";
    }

    /// <summary>Who the event is about: an instance, an app, a supervisor, or the stream itself.</summary>
    internal static string Subject(TendEvent e) =>
        e.App is { } app ? (e.Instance is int n ? Format.InstanceName(app, n) : app)
        : e.Data?.GetValueOrDefault("supervisor") is { } supervisor ? "supervisor " + supervisor
        : "tend";

    private static string? ColorOf(string type) => type switch
    {
        "started" or "online" or "ready" or "reload_done" or "deploy_done" => Ansi.Green,
        "exited" or "errored" or "blocked" or "spawn_failed" or "health_failed" or "probe_failed" or "replacement_failed"
            or "reload_failed" or "deploy_failed" or "supervisor_failed" or "events_dropped" => Ansi.Red,
        "stopping" or "not_ready" or "restart_scheduled" or "memory_limit" or "supervisor_restart" or "auto_shutdown" => Ansi.Yellow,
        "stopped" => Ansi.Grey,
        _ => Ansi.Cyan,
    };
}
