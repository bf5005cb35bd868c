using Tend.Health;
using Tend.Processes;

namespace Tend.Supervision;

/// <summary>
/// One instance at one moment, in the engine's own terms: a typed status, the exit as numbers, times
/// as spans. What the engine decides on (dependencies, rollouts, the proxy's backends) reads this, and
/// the daemon maps it to the wire; nothing in the engine builds a DTO.
/// </summary>
public sealed record InstanceSnapshot(
    int Id,
    string App,
    int Number,
    int? Pid,
    InstanceStatus Status,
    bool Ready,
    int Restarts,
    string? StatusReason,
    string? LastRestartReason,
    ExitStatus? LastExit,
    string? LastExitReason)
{
    /// <summary>How long the live run has been up; zero when none is online.</summary>
    public TimeSpan Uptime { get; init; }

    /// <summary>The last sample's CPU (100 = one core) and resident memory; zero when not running.</summary>
    public double CpuPercent { get; init; }

    public long MemoryBytes { get; init; }

    /// <summary>The program's own STATUS= line (NOTIFY_SOCKET), as it sent it.</summary>
    public string? StatusText { get; init; }

    public string Label => $"{App}#{Number}";

    /// <summary>Online and ready: may take traffic, satisfies `ready` dependencies and rollouts.</summary>
    public bool IsServing => Status == InstanceStatus.Online && Ready;

    /// <summary>Will not run again by itself (a user's stop, a final exit, given up, blocked).</summary>
    public bool IsFinal => Status is InstanceStatus.Stopped or InstanceStatus.Errored or InstanceStatus.Blocked;
}

/// <summary>One exit of an instance, kept (the last ten) for describe.</summary>
public sealed record InstanceExit(DateTimeOffset Time, int Pid, ExitStatus Exit, TimeSpan Uptime, string Reason);

/// <summary>An instance's NOTIFY_SOCKET: datagrams taken, and those ignored as malformed or from another process.</summary>
public sealed record NotifyCounters(string Socket, long Accepted, long Malformed, long Foreign, DateTimeOffset? LastWatchdogAt);

/// <summary>
/// An instance as describe shows it: the snapshot and the why behind it (when it started, its
/// recent exits, its probes, its notify socket, its .NET counters).
/// </summary>
public sealed record InstanceDetails(
    InstanceSnapshot Now,
    DateTimeOffset? StartedAt,
    int UnstableRestarts,
    string OutLog,
    string ErrLog,
    long DroppedLines,
    IReadOnlyList<InstanceExit> RecentExits,
    IReadOnlyList<ProbeState>? Probes,
    NotifyCounters? Notify,
    Runtime.DotnetCounters? Dotnet,
    string? DaemonRestart = null);
