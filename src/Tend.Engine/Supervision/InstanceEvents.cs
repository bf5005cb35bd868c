using System.Globalization;
using Tend.Config;
using Tend.Events;
using Tend.Processes;

namespace Tend.Supervision;

/// <summary>
/// What an instance publishes on the supervisor's <see cref="EventHub"/>: one event per lifecycle
/// transition (<see cref="Publish(Instance, InstanceTransition)"/>), and the notices that change no
/// state (a failing probe, a health failure, max_memory).
/// </summary>
internal static class InstanceEvents
{
    private static readonly CultureInfo s_invariant = CultureInfo.InvariantCulture;

    /// <summary>The event a transition means, if any (a loop beginning or a dependency met has none: the list shows them).</summary>
    public static void Publish(Instance i, InstanceTransition t)
    {
        switch (t.Input)
        {
            case ProcessStarted p:
                i.Publish(EventTypes.Started, p.Pid, $"pid {p.Pid}");
                break;
            case CameOnline o:
                i.Publish(EventTypes.Online, o.Pid, o.ReadyAtOnce ? "ready at once (no ready: check)" : "waiting to be ready",
                    new() { ["ready"] = o.ReadyAtOnce ? "true" : "false" });
                break;
            case Adopted a:
                i.Publish(EventTypes.Adopted, a.Pid, $"pid {a.Pid} carried over from the previous daemon ({a.How})", new()
                {
                    ["how"] = a.How,
                    ["ready"] = a.Ready ? "true" : "false",
                    ["restarts"] = a.Restarts.ToString(s_invariant),
                });
                break;
            case SpawnFailed f:
                i.Publish(EventTypes.SpawnFailed, null, f.Reason, new() { ["reason"] = f.Reason });
                break;
            case ProcessExited e:
                Exited(i, e);
                break;
            case StopBegins s:
                Stopping(i, s.Pid, s.Why);
                break;
            case AppReportsStopping:
                Stopping(i, null, "the app reports it is stopping (STOPPING=1)");
                break;
            case RestartsInPlace r:
                RestartScheduled(i, TimeSpan.Zero, t.After.Restarts, r.Reason);
                break;
            case RestartScheduled r:
                RestartScheduled(i, r.Delay, t.After.Restarts + 1, r.Cause);
                break;
            case ReadinessChanged r:
                i.Publish(r.Ready ? EventTypes.Ready : EventTypes.NotReady, null, r.Why, new() { ["why"] = r.Why });
                break;
            case BreakerOpened b:
                i.Publish(EventTypes.BreakerOpen, null, $"breaker open: {b.Why}; half-open attempt in {Units.FormatDuration(b.For)}", new()
                {
                    ["reason"] = b.Why,
                    ["break_ms"] = ((long)b.For.TotalMilliseconds).ToString(s_invariant),
                    ["opens"] = b.Opens.ToString(s_invariant),
                });
                break;
            case BreakerClosed c:
                i.Publish(EventTypes.BreakerClosed, c.Pid, "the half-open attempt stayed up: breaker closed");
                break;
            case HeldFor h:
                i.Publish(EventTypes.Held, null, $"held: {h.Why}", new() { ["dependency"] = h.Dependency, ["why"] = h.Why });
                break;
            case HoldReleased r:
                i.Publish(EventTypes.Released, null, $"{r.Dependency} is ready again: starting (not counted as a restart)", new() { ["dependency"] = r.Dependency });
                break;
            case LoopEnded e:
                string type = e.Final switch
                {
                    InstanceStatus.Errored => EventTypes.Errored,
                    InstanceStatus.Blocked => EventTypes.Blocked,
                    _ => EventTypes.Stopped,
                };
                i.Publish(type, null, e.Reason, new() { ["reason"] = e.Reason });
                break;
        }
    }

    private static void Exited(Instance i, ProcessExited e)
    {
        var data = new Dictionary<string, string>
        {
            ["uptime_ms"] = ((long)e.Uptime.TotalMilliseconds).ToString(s_invariant),
            ["reason"] = e.Reason,
        };
        if (e.Exit.Code is int code) data["exit_code"] = code.ToString(s_invariant);
        if (e.Exit.Signal is int signal) data["signal"] = Signals.Name(signal);
        // To the tenth of a second past one second: "after 2.3s" reads better than "after 2.347s".
        double ms = e.Uptime.TotalMilliseconds < 1000 ? Math.Round(e.Uptime.TotalMilliseconds) : Math.Round(e.Uptime.TotalMilliseconds / 100) * 100;
        i.Publish(EventTypes.Exited, e.Pid, $"{e.Exit} after {Units.FormatDuration(TimeSpan.FromMilliseconds(ms))}"
            + (e.Reason is "exited" ? "" : $" ({e.Reason})"), data);
    }

    private static void Stopping(Instance i, int? pid, string reason) =>
        i.Publish(EventTypes.Stopping, pid, reason, new() { ["reason"] = reason });

    private static void RestartScheduled(Instance i, TimeSpan delay, int restart, string cause) =>
        i.Publish(EventTypes.RestartScheduled, null, $"restart {restart} in {Units.FormatDuration(delay)} after {cause}", new()
        {
            ["delay_ms"] = ((long)delay.TotalMilliseconds).ToString(s_invariant),
            ["restart"] = restart.ToString(s_invariant),
            ["cause"] = cause,
        });

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

    public static void EventOom(this Instance i, int pid, long? limitBytes) =>
        i.Publish(EventTypes.Oom, pid, "killed by the kernel's OOM killer" + (limitBytes is long l ? $" (memory_max {l} bytes)" : ""),
            limitBytes is long limit ? new() { ["limit_bytes"] = limit.ToString(s_invariant) } : null);

    private static void Publish(this Instance i, string type, int? pid, string message, Dictionary<string, string>? data = null) =>
        i.App.Events?.Publish(type, i.Name, i.Number, pid ?? i.LiveProcess?.Pid, message, data);
}
