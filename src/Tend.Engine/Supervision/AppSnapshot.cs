using Tend.Config;

namespace Tend.Supervision;

/// <summary>
/// One app as describe shows it: the resolved spec, the config it came from, its instances with
/// the why behind them, the supervisors above it (root first; null when it runs outside a tree),
/// and the addresses it listens on (as bound: a port 0 reads as the port the kernel chose).
/// </summary>
public sealed record AppSnapshot(
    string Name,
    AppSpec Spec,
    string? ConfigPath,
    IReadOnlyList<InstanceDetails> Instances,
    IReadOnlyList<string>? Supervisors,
    IReadOnlyList<string>? Listen)
{
    /// <summary>How the app's processes are held together (a cgroup per instance, or process groups and the subreaper).</summary>
    public Containment Containment { get; init; } = Containment.ProcessGroups;

    /// <summary>How watch: watches the files now ("inotify: 12 directories", "polling every 1s: …"); null without watch:.</summary>
    public string? WatchMode { get; init; }

    /// <summary>The app is a job: its schedule and runs; null for a long-running app.</summary>
    public Jobs.JobSnapshot? Job { get; init; }
}

/// <summary>How an app's processes are contained, for describe and doctor.</summary>
/// <param name="Mode">The daemon's cgroup mode: none (process groups and the subreaper), unified, hybrid or legacy.</param>
/// <param name="InstanceCgroups">The instances' cgroup directories ("…/web.{instance}"), or null without cgroups.</param>
public sealed record Containment(Isolation.CgroupMode Mode, string? InstanceCgroups)
{
    public static Containment ProcessGroups { get; } = new(Isolation.CgroupMode.None, null);

    public string Describe() => Mode switch
    {
        Isolation.CgroupMode.None => "process group per instance, the daemon as subreaper (no cgroups)",
        Isolation.CgroupMode.Unified => "a cgroup per instance (cgroup v2)",
        Isolation.CgroupMode.Hybrid => "a cgroup per instance (v2 tree; limits in v1 hierarchies)",
        _ => "a cgroup per instance (cgroup v1, freezer)",
    };
}
