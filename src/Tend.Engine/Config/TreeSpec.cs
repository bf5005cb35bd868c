namespace Tend.Config;

/// <summary>How a supervisor reacts when one of its children exits and is to be restarted.</summary>
public enum SupervisorStrategy
{
    /// <summary>Only the child that exited is restarted.</summary>
    OneForOne,
    /// <summary>Every other child is stopped (reverse order), then all start again in order.</summary>
    OneForAll,
    /// <summary>The children after the one that exited are stopped (reverse order), then it and they start again in order.</summary>
    RestForOne,
}

/// <summary>When a supervisor shuts itself down because significant children have exited (OTP's auto_shutdown).</summary>
public enum AutoShutdown
{
    Never,
    /// <summary>As soon as any significant child exits and is not restarted.</summary>
    AnySignificant,
    /// <summary>When the last significant child has exited and is not restarted.</summary>
    AllSignificant,
}

/// <summary>What an app waits for in an app it depends on before it starts.</summary>
public enum DependencyCondition
{
    /// <summary>The dependency's process has been spawned.</summary>
    Started,
    /// <summary>The dependency is ready: its readiness check passed, or it is online when it has none.</summary>
    Ready,
    /// <summary>The dependency ran to completion: every instance exited with code 0 (one-shot jobs such as migrations).</summary>
    Completed,
}

/// <summary>One entry of an app's depends_on.</summary>
public sealed record Dependency(string App, DependencyCondition Condition)
{
    /// <summary>What happens to the dependent while this dependency is down (not ready, errored) after it started.</summary>
    public WhileDown WhileDown { get; init; } = WhileDown.Ignore;
}

/// <summary>
/// A dependent's policy while a dependency it started against is down (docs/alerts.md#self-healing):
/// the process manager's form of a circuit breaker.
/// </summary>
public enum WhileDown
{
    /// <summary>Nothing special: the dependent runs, crashes and is restarted as its own policy says.</summary>
    Ignore,
    /// <summary>A dependent that exits while the dependency is down is not restarted against it: held, uncounted, until the dependency is ready again.</summary>
    Hold,
    /// <summary>The dependent is stopped when the dependency goes down, and started again once it is ready.</summary>
    Stop,
}

public enum ChildKind
{
    App,
    Supervisor,
}

/// <summary>A child of a supervisor: an app or another supervisor, by name.</summary>
public sealed record ChildRef(ChildKind Kind, string Name);

/// <summary>
/// One supervisor of the tree: its children in start order, its strategy and its intensity
/// (more than <see cref="MaxRestarts"/> restarts within <see cref="Within"/> and it gives up).
/// <see cref="Restart"/> and <see cref="Significant"/> describe it as a child of its parent.
/// </summary>
public sealed record SupervisorSpec
{
    /// <summary>The name of the implicit root supervisor; reserved, so no declared supervisor may use it.</summary>
    public const string RootName = "root";

    /// <summary>OTP's defaults: intensity 1, period 5 seconds.</summary>
    public const int DefaultMaxRestarts = 1;
    public static readonly TimeSpan DefaultWithin = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The root's default intensity for restarts of the supervisors under it (tend.yaml's
    /// <c>root:</c> changes it). Its apps' restarts are not counted: each app's crash-loop guard
    /// governs those, as it did before trees existed.
    /// </summary>
    public const int RootMaxRestarts = 3;
    public static readonly TimeSpan RootWithin = TimeSpan.FromMinutes(1);

    public required string Name { get; init; }
    public SupervisorStrategy Strategy { get; init; } = SupervisorStrategy.OneForOne;
    public int MaxRestarts { get; init; } = DefaultMaxRestarts;
    public TimeSpan Within { get; init; } = DefaultWithin;
    public required EquatableArray<ChildRef> Children { get; init; }
    public AutoShutdown AutoShutdown { get; init; } = AutoShutdown.Never;
    public RestartPolicy Restart { get; init; } = RestartPolicy.Always;
    public bool Significant { get; init; }
}

/// <summary>
/// The declared supervisors, in declaration order. The root is implicit: see
/// <see cref="TendConfig.Root"/>. An empty tree is the flat config every app ran under before.
/// </summary>
public sealed record TreeSpec(EquatableArray<SupervisorSpec> Supervisors)
{
    /// <summary>The root's intensity (top-level <c>root: { max_restarts, within }</c>): it counts only its supervisors' restarts.</summary>
    public int RootMaxRestarts { get; init; } = SupervisorSpec.RootMaxRestarts;
    public TimeSpan RootWithin { get; init; } = SupervisorSpec.RootWithin;

    public static TreeSpec Flat { get; } = new(EquatableArray<SupervisorSpec>.Empty);
}
