namespace Tend.Supervision;

/// <summary>
/// One instance at one moment, in the engine's own terms: a typed status, the exit as numbers. What the
/// engine decides on (dependencies, rollouts, the proxy's backends) reads this, never a wire DTO.
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
    Processes.ExitStatus? LastExit,
    string? LastExitReason)
{
    public string Label => $"{App}#{Number}";

    /// <summary>Online and ready: may take traffic, satisfies `ready` dependencies and rollouts.</summary>
    public bool IsServing => Status == InstanceStatus.Online && Ready;

    /// <summary>Will not run again by itself (a user's stop, a final exit, given up, blocked).</summary>
    public bool IsFinal => Status is InstanceStatus.Stopped or InstanceStatus.Errored or InstanceStatus.Blocked;
}
