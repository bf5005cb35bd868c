using System.Globalization;
using Tend.Api;
using Tend.Config;
using Tend.Events;
using Tend.Health;
using Tend.Jobs;
using Tend.Processes;
using Tend.Runtime;
using Tend.Security;
using Tend.Supervision;

namespace Tend.Daemon.Wire;

/// <summary>
/// The one place where the engine's snapshots become the control API's wire types. Everything a
/// script reads is decided here: status names, milliseconds, rounding, signal names, and the
/// masking of secrets (URL passwords, secret-named variables) in anything the engine recorded as
/// it was.
/// </summary>
internal static class WireMapper
{
    public static InstanceInfo ToInfo(InstanceSnapshot s) => new(
        s.Id, s.App, s.Number, s.Pid, s.Status.ToWire(), s.Ready, s.Restarts, Ms(s.Uptime),
        Math.Round(s.CpuPercent, 1), s.MemoryBytes, s.LastExit?.Code, SignalName(s.LastExit), SecretMask.Text(s.StatusText), s.StatusReason);

    public static InstanceInfo[] ToInfo(IReadOnlyList<InstanceSnapshot> list) => [.. list.Select(ToInfo)];

    public static InstanceDetail ToDetail(InstanceDetails d)
    {
        InstanceSnapshot s = d.Now;
        return new InstanceDetail(
            s.Id, s.App, s.Number, s.Pid, s.Status.ToWire(), s.Ready, s.Restarts, Ms(s.Uptime),
            Math.Round(s.CpuPercent, 1), s.MemoryBytes, s.LastExit?.Code, SignalName(s.LastExit),
            d.StartedAt, d.UnstableRestarts, SecretMask.Text(s.StatusReason), SecretMask.Text(s.LastRestartReason), d.OutLog, d.ErrLog,
            d.DroppedLines,
            [.. d.RecentExits.Select(e => new ExitRecord(e.Time, e.Pid, e.Exit.Code, SignalName(e.Exit), Ms(e.Uptime), SecretMask.MaskUrlPassword(e.Reason)))],
            SecretMask.Text(s.StatusText),
            d.Probes is null ? null : [.. d.Probes.Select(ToInfo)],
            d.Notify is { } n ? new NotifyInfo(n.Socket, n.Accepted, n.Malformed, n.Foreign, n.LastWatchdogAt) : null,
            d.Dotnet is { } c ? ToInfo(c) : null,
            d.DaemonRestart);
    }

    public static DotnetCountersInfo ToInfo(DotnetCounters c) => new(
        c.SampledAt, c.GcHeapBytes, c.Gen0Collections, c.Gen1Collections, c.Gen2Collections, Math.Round(c.AllocationRateBytesPerSecond),
        c.AllocatedBytes, Math.Round(c.TimeInGcPercent, 2), c.ThreadPoolThreads, c.ThreadPoolQueueLength, c.LockContentions, c.Exceptions, c.WorkingSetBytes);

    public static ProbeInfo ToInfo(ProbeState p) => new(
        p.Role, SecretMask.MaskUrlPassword(p.Spec.Describe()), p.Passing, p.LastAt, p.Last?.Success,
        p.Last is { } l ? Math.Round(l.Latency.TotalMilliseconds, 1) : null, SecretMask.Text(p.Last?.Detail),
        p.ConsecutiveFailures, p.Checks, p.Failures,
        [.. p.Recent.Select(e => new ProbeCheck(e.At, e.Success, Math.Round(e.Latency.TotalMilliseconds, 1), SecretMask.Text(e.Detail)))]);

    public static AppInfo ToInfo(AppSnapshot a)
    {
        AppSpec spec = a.Spec;
        return new AppInfo(
            a.Name, spec.Command, [.. spec.Args.Select(SecretMask.MaskUrlPassword)], spec.Cwd, spec.Instances, RestartTracker.Describe(spec.Restart),
            spec.MaxRestarts, Ms(spec.MinUptime), Ms(spec.RestartDelay),
            Signals.Name(spec.StopSignal), Ms(spec.KillTimeout), [.. spec.StopExitCodes],
            spec.MaxMemoryBytes, a.ConfigPath, SecretMask.Environment(spec.Env), [.. a.Instances.Select(ToDetail)],
            a.Supervisors,
            spec.DependsOn.Count == 0 ? null : [.. spec.DependsOn.Select(Describe)],
            spec.Ready is { } ready ? ready.Notify ? "notify (READY=1)" : ready.Message is { } m ? $"message (process.send('{m}'))" : DescribeProbe(ready.Probe!) : null,
            spec.Ready is { Timeout: var t } ? (t == Timeout.InfiniteTimeSpan ? -1 : Ms(t)) : null,
            spec.Live is { } live ? DescribeProbe(live) : null,
            spec.Watchdog is { } watchdog ? Ms(watchdog) : null,
            spec.Critical,
            a.Listen,
            spec.Listen.Count == 0 ? null : spec.ListenMode == ListenMode.Proxy ? "proxy" : "socket",
            new BackoffInfo(Ms(spec.Backoff.Initial), Ms(spec.Backoff.Max), spec.Backoff.Multiplier, spec.Backoff.Jitter),
            spec.ReloadSignal is int reloadSignal ? Signals.Name(reloadSignal) : null,
            ToInfo(spec.Isolation, a.Containment),
            spec.Watch is { } w ? new WatchInfo([.. w.Paths], [.. w.Include], [.. w.Ignore], Ms(w.Debounce), w.Action == WatchAction.Reload ? "reload" : "restart", a.WatchMode) : null,
            a.Job is { } job ? ToWire(job) : null);
    }

    private static IsolationInfo ToInfo(IsolationSpec i, Containment c)
    {
        static string Limit(ulong v) => v == Isolation.ResourceLimit.Infinity ? "infinity" : v.ToString(CultureInfo.InvariantCulture);
        var resources = new List<string>();
        if (i.Resources.MemoryMax is long max) resources.Add(FormattableString.Invariant($"memory_max={max}"));
        if (i.Resources.MemoryHigh is long high) resources.Add(FormattableString.Invariant($"memory_high={high}"));
        if (i.Resources.CpuMax is double cpu) resources.Add(FormattableString.Invariant($"cpu_max={cpu}"));
        if (i.Resources.PidsMax is long pids) resources.Add(FormattableString.Invariant($"pids_max={pids}"));
        return new IsolationInfo(c.Describe(), c.InstanceCgroups, i.UserName, i.Uid, i.Gid, i.Groups is { } g ? [.. g] : null,
            i.Umask is int u ? "0" + Convert.ToString(u, 8).PadLeft(3, '0') : null,
            i.Limits.Count == 0 ? null : [.. i.Limits.Select(l => l.Soft == l.Hard ? $"{l.Name}={Limit(l.Soft)}" : $"{l.Name}={Limit(l.Soft)}:{Limit(l.Hard)}")],
            i.NoNewPrivileges, i.Capabilities is { } caps ? [.. caps.Select(c => "CAP_" + c.ToUpperInvariant())] : null,
            resources.Count == 0 ? null : resources);
    }

    public static AppHealth ToWire(AppHealthState h) => new(
        h.Name, h.Tier.ToWire(), h.Critical, h.Ready, h.Wanted,
        [.. h.Instances.Select(i => new InstanceHealthInfo(i.Number, i.Pid, i.Status.ToWire(), i.Ready, SecretMask.Text(i.StatusText)))]);

    public static TreeNodeInfo ToInfo(TreeNodeSnapshot n) => n.Kind == TreeNodeKind.App
        ? new TreeNodeInfo(n.Name, "app", null, string.Join(",", n.Instances.Select(i => i.Status.ToWire()).Distinct()), n.Restarts, null, null,
            RestartTracker.Describe(n.Restart), null, [.. n.Instances.Where(i => i.Pid is not null).Select(i => i.Pid!.Value)],
            [.. n.DependsOn.Select(Describe)], [])
        : new TreeNodeInfo(n.Name, "supervisor", n.Strategy is { } s ? Supervisor.Strategy(s) : null, n.Status ?? SupervisorNode.Running, n.Restarts,
            n.MaxRestarts, n.Within is { } w ? Ms(w) : null, RestartTracker.Describe(n.Restart), n.Reason, [], [], [.. n.Children.Select(ToInfo)]);

    public static InstanceEnvironmentInfo[] ToWire(IReadOnlyList<InstanceEnvironmentView> views) =>
        [.. views.Select(v => new InstanceEnvironmentInfo(v.Name, v.Number, v.Id, v.Pid, SecretMask.Environment(v.Env)))];

    public static AppHistory[] ToWire(IReadOnlyList<AppResourceHistory> histories) =>
        [.. histories.Select(h => new AppHistory(h.Name, Ms(h.Resolution), [.. h.Points.Select(p => new ResourcePoint(p.Time, p.CpuPercent, p.MemoryBytes, p.Instances))]))];

    public static TendEvent ToWire(LifecycleEvent e) => new(e.Seq, e.Time, e.Type, e.App, e.Instance, e.Pid, e.Message, e.Data);

    private static string Describe(Dependency d) => $"{d.App} ({d.Condition.ToString().ToLowerInvariant()})";

    private static string DescribeProbe(ProbeSpec p) =>
        $"{SecretMask.MaskUrlPassword(p.Describe())} (every {Units.FormatDuration(p.Interval)}, timeout {Units.FormatDuration(p.Timeout)}, " +
        $"{p.FailureThreshold} failures / {p.SuccessThreshold} successes" +
        (p.InitialDelay > TimeSpan.Zero ? $", after {Units.FormatDuration(p.InitialDelay)})" : ")");

    private static string? SignalName(ExitStatus? exit) => exit?.Signal is int s ? Signals.Name(s) : null;

    private static long Ms(TimeSpan span) => (long)span.TotalMilliseconds;

    public static JobInfo ToWire(JobSnapshot j) => new(
        j.App, j.Spec.Cron, j.Spec.TimeZone, j.Spec.Concurrency.ToString().ToLowerInvariant(), (long)j.Spec.Jitter.TotalMilliseconds,
        j.Spec.StartingDeadline is { } d ? (long)d.TotalMilliseconds : null, j.Spec.CatchUp, j.Spec.Timeout is { } t ? (long)t.TotalMilliseconds : null,
        j.NextRun, j.Running, [.. j.Runs.Select(ToWire)]);

    public static JobRunInfo ToWire(JobRun r) => new(
        r.Id, r.Trigger, r.ScheduledFor, r.StartedAt, r.EndedAt, r.Outcome.ToString().ToLowerInvariant(), r.ExitCode, r.Signal,
        r.Duration is { } d ? (long)d.TotalMilliseconds : null, r.Detail is null ? null : SecretMask.Text(r.Detail), r.Log);
}
