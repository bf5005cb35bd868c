using System.Globalization;
using Tend.Config;
using Tend.Events;
using Tend.Processes;

namespace Tend.Supervision;

/// <summary>
/// What an instance publishes on the supervisor's <see cref="EventHub"/>, one method per event,
/// each called next to the <see cref="EngineLog"/> line for the same moment. Kept out of
/// Instance.cs so the run loop reads as before: one line per lifecycle point.
/// </summary>
internal static class InstanceEvents
{
    private static readonly CultureInfo s_invariant = CultureInfo.InvariantCulture;

    public static void EventStarted(this Instance i, int pid) =>
        i.Publish(EventTypes.Started, pid, $"pid {pid}");

    public static void EventOnline(this Instance i, int pid, bool ready) =>
        i.Publish(EventTypes.Online, pid, ready ? "ready at once (no ready: check)" : "waiting to be ready",
            new() { ["ready"] = ready ? "true" : "false" });

    public static void EventSpawnFailed(this Instance i, string reason) =>
        i.Publish(EventTypes.SpawnFailed, null, reason, new() { ["reason"] = reason });

    public static void EventExited(this Instance i, int pid, ExitStatus exit, TimeSpan uptime, string reason)
    {
        var data = new Dictionary<string, string>
        {
            ["uptime_ms"] = ((long)uptime.TotalMilliseconds).ToString(s_invariant),
            ["reason"] = reason,
        };
        if (exit.Code is int code) data["exit_code"] = code.ToString(s_invariant);
        if (exit.Signal is int signal) data["signal"] = Signals.Name(signal);
        // To the tenth of a second past one second: "after 2.3s" reads better than "after 2.347s".
        double ms = uptime.TotalMilliseconds < 1000 ? Math.Round(uptime.TotalMilliseconds) : Math.Round(uptime.TotalMilliseconds / 100) * 100;
        i.Publish(EventTypes.Exited, pid, $"{exit} after {Units.FormatDuration(TimeSpan.FromMilliseconds(ms))}"
            + (reason is "exited" ? "" : $" ({reason})"), data);
    }

    public static void EventStopping(this Instance i, int? pid, string reason) =>
        i.Publish(EventTypes.Stopping, pid, reason, new() { ["reason"] = reason });

    public static void EventRestartScheduled(this Instance i, TimeSpan delay, int restart, string cause) =>
        i.Publish(EventTypes.RestartScheduled, null, $"restart {restart} in {Units.FormatDuration(delay)} after {cause}", new()
        {
            ["delay_ms"] = ((long)delay.TotalMilliseconds).ToString(s_invariant),
            ["restart"] = restart.ToString(s_invariant),
            ["cause"] = cause,
        });

    /// <summary>The loop ended: stopped, errored or blocked, and why.</summary>
    public static void EventFinal(this Instance i, InstanceStatus status, string reason)
    {
        string type = status switch
        {
            InstanceStatus.Errored => EventTypes.Errored,
            InstanceStatus.Blocked => EventTypes.Blocked,
            _ => EventTypes.Stopped,
        };
        i.Publish(type, null, reason, new() { ["reason"] = reason });
    }

    public static void EventReadyChanged(this Instance i, int? pid, bool ready, string why) =>
        i.Publish(ready ? EventTypes.Ready : EventTypes.NotReady, pid, why, new() { ["why"] = why });

    public static void EventProbeFailed(this Instance i, int? pid, string role, string check, string? detail) =>
        i.Publish(EventTypes.ProbeFailed, pid, $"{role} probe {check} failing{(detail is null ? "" : ": " + detail)}", new()
        {
            ["role"] = role,
            ["check"] = check,
            ["detail"] = detail ?? "",
        });

    public static void EventHealthFailed(this Instance i, int? pid, string reason)
    {
        // "liveness: …", "watchdog: …", "ready_timeout: …": the kind is the part before the colon.
        int colon = reason.IndexOf(':', StringComparison.Ordinal);
        string kind = colon > 0 ? reason[..colon] : "health";
        i.Publish(EventTypes.HealthFailed, pid, reason, new() { ["kind"] = kind, ["reason"] = reason });
    }

    public static void EventMemoryLimit(this Instance i, int pid, long memoryBytes, long limitBytes) =>
        i.Publish(EventTypes.MemoryLimit, pid, $"uses {memoryBytes} bytes, above max_memory {limitBytes}: restarting", new()
        {
            ["memory_bytes"] = memoryBytes.ToString(s_invariant),
            ["limit_bytes"] = limitBytes.ToString(s_invariant),
        });

    private static void Publish(this Instance i, string type, int? pid, string message, Dictionary<string, string>? data = null) =>
        i.App.Events?.Publish(type, i.Name, i.Number, pid ?? i.LiveProcess?.Pid, message, data);
}
