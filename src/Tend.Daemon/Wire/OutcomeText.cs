using Tend.Api;
using Tend.Config;
using Tend.Processes;
using Tend.Supervision;

namespace Tend.Daemon.Wire;

/// <summary>
/// The answer to a command (<see cref="ActionResult"/>): what it touched, and the line `tend` prints.
/// The engine reports typed outcomes; the wording lives here, once. Scripts read these lines, so a
/// sentence changes only with the docs.
/// </summary>
internal static class OutcomeText
{
    public static ActionResult ToResult(CommandOutcome outcome) => new(outcome.Affected, Sentence(outcome));

    public static string Sentence(CommandOutcome outcome) => outcome switch
    {
        AppsStarted s => (s.Started.Count > 0 ? $"started {List(s.Started)}" : "nothing to start")
            + (s.AlreadyRunning.Count > 0 ? $" ({string.Join("; ", s.AlreadyRunning.Select(a => $"{a} already running"))})" : ""),
        StepsTaken t => string.Join("; ", t.Steps.Select(Sentence)),
        TreeAlreadyRunning t => $"nothing to start (the tree of {t.ConfigPath} is already running)",
        InstancesActed a => $"{Verb(a.Verb)} {(a.Instances.Count == 0 ? "nothing" : List(a.Instances))}",
        SubtreeActed t => $"{Verb(t.Verb)} supervisor {t.Supervisor} ({(t.Instances.Count == 0 ? "no apps" : List(t.Instances))})",
        Signalled s => s.Instances.Count > 0
            ? $"sent {Signals.Name(s.Signal)} to {(s.Scope == SignalScope.Group ? "the process groups of " : "the main process of ")}{List(s.Instances)}"
            : $"no running process in {s.Target} to signal",
        AppsDeleted d => d.Apps.Count > 0 ? $"deleted {List(d.Apps)}" : "nothing to delete",
        StateSaved s => $"saved {s.Apps.Count} apps to {s.Path}",
        Resurrected r => Sentence(r.Started) + (r.Problems.Count > 0 ? $" ({string.Join("; ", r.Problems)})" : ""),
        AppsReloaded r => ReloadSentence(r),
        Scaled s => s.Started.Count == 0 && s.Removed.Count == 0
            ? $"{s.App} already has {s.InstancesNow} instances"
            : $"scaled {s.App} from {s.From} to {s.To} instances: {(s.Started.Count > 0 ? "started " + List(s.Started) : "stopped and removed " + List(s.Removed))}",
        Deployed d => d.Strategy == DeployStrategy.BlueGreen
            ? $"deployed {d.App} blue-green: {d.Instances} new instances serving, the old set stopped"
            : $"deployed {d.App} by canary: {d.Canaries} watched for {Units.FormatDuration(d.Watch)}, then all {d.Instances} replaced",
        _ => throw new InvalidOperationException($"no wording for {outcome.GetType().Name}"),
    };

    private static string ReloadSentence(AppsReloaded r)
    {
        if (r.Apps.Count == 0) return "nothing to reload";
        var parts = new List<string>();
        AppReload[] replaced = [.. r.Apps.Where(a => !a.NothingRunning)];
        if (replaced.Length > 0) parts.Add($"reloaded {string.Join(", ", replaced.Select(Reloaded))}");
        string[] idle = [.. r.Apps.Where(a => a.NothingRunning).Select(a => a.App)];
        if (idle.Length > 0)
            parts.Add($"nothing running in {List(idle)} to reload (stopped; tend start {(idle.Length == 1 ? idle[0] : "NAME")} starts it)");
        return string.Join("; ", parts);
    }

    private static string Reloaded(AppReload r) => r.InPlaceSignal is int signal
        ? $"{r.App} in place ({Signals.Name(signal)} to the main process of {List(r.Signalled)})"
        : r.App;

    private static string Verb(InstanceVerb verb) => verb switch
    {
        InstanceVerb.Started => "started",
        InstanceVerb.Stopped => "stopped",
        InstanceVerb.Restarted => "restarted",
        InstanceVerb.Reset => "reset",
        InstanceVerb.LogsReopened => "reopened the log files of",
        _ => "flushed",
    };

    private static string List(IReadOnlyList<string> names) => string.Join(", ", names);
}
