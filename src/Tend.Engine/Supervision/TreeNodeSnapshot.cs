using Tend.Config;

namespace Tend.Supervision;

public enum TreeNodeKind
{
    Supervisor,
    App,
}

/// <summary>
/// One node of the supervision tree at one moment. A supervisor has its strategy, its status
/// (<see cref="SupervisorNode.Running"/>, Stopped or Failed), the restarts it carried out, its
/// intensity (null for the root without one) and why it failed; an app has its instances and what
/// it depends on, and no status of its own (its instances have theirs).
/// </summary>
public sealed record TreeNodeSnapshot(
    string Name,
    TreeNodeKind Kind,
    SupervisorStrategy? Strategy,
    string? Status,
    int Restarts,
    int? MaxRestarts,
    TimeSpan? Within,
    RestartPolicy Restart,
    string? Reason,
    IReadOnlyList<InstanceSnapshot> Instances,
    IReadOnlyList<Dependency> DependsOn,
    IReadOnlyList<TreeNodeSnapshot> Children);
