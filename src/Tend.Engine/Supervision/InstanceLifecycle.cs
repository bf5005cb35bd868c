using Tend.Processes;

namespace Tend.Supervision;

/// <summary>The part of an instance's state its lifecycle decides: status, readiness, restarts and the why.</summary>
public readonly record struct LifeState(InstanceStatus Status, bool Ready, int Restarts, string? StatusReason, string? LastRestartReason)
{
    /// <summary>A new instance: stopped, never run.</summary>
    public static LifeState Initial { get; } = new(InstanceStatus.Stopped, false, 0, null, null);
}

/// <summary>Something that happens to an instance: a command, its process, its health, its supervisor's decision.</summary>
public abstract record LifeInput;

/// <summary>Start or restart was asked for: the run loop begins, first waiting for depends_on when it has any.</summary>
public sealed record LoopBegins(bool WaitsForDependencies) : LifeInput;

/// <summary>depends_on is satisfied: the instance may spawn.</summary>
public sealed record DependenciesMet : LifeInput;

/// <summary>`tend restart` of this instance; it counts as a restart when it ran before (now or earlier).</summary>
public sealed record RestartCommanded(string Reason, bool Counts) : LifeInput;

/// <summary>`tend reset`: the restart count starts again from zero.</summary>
public sealed record CountersReset : LifeInput;

/// <summary>posix_spawn returned a process (logged and announced before it is published as online).</summary>
public sealed record ProcessStarted(int Pid) : LifeInput;

/// <summary>The new process is published: online, ready at once when the app has no ready: check.</summary>
public sealed record CameOnline(int Pid, bool ReadyAtOnce) : LifeInput;

/// <summary>
/// A process the previous daemon ran, taken over with its pipes (an upgrade, or a restart after a crash
/// with the descriptors kept): online at once, with the readiness and restart count it had.
/// </summary>
public sealed record Adopted(int Pid, int Restarts, bool Ready, string How) : LifeInput;

/// <summary>The spawn, or what a run needs around it, failed: a run of length zero.</summary>
public sealed record SpawnFailed(string Reason) : LifeInput;

/// <summary>A ready probe, READY=1 or RELOADING=1 changed whether the instance takes traffic.</summary>
public sealed record ReadinessChanged(bool Ready, string Why) : LifeInput;

/// <summary>Tend stops the process (a stop, a restart in place, a failed health check).</summary>
public sealed record StopBegins(int Pid, string Why) : LifeInput;

/// <summary>The program says it is stopping (STOPPING=1).</summary>
public sealed record AppReportsStopping : LifeInput;

/// <summary>The process is gone: how it ended, after how long, and why (exited, stopped, or the restart's cause).</summary>
public sealed record ProcessExited(int Pid, ExitStatus Exit, TimeSpan Uptime, string Reason, bool ByUser) : LifeInput;

/// <summary>A restart without backoff (max_memory, a health failure's restart): the next run starts at once.</summary>
public sealed record RestartsInPlace(string Reason) : LifeInput;

/// <summary>The restart policy restarts the instance after <see cref="Delay"/> (its backoff).</summary>
public sealed record RestartScheduled(TimeSpan Delay, string Cause) : LifeInput;

/// <summary>The backoff has passed: the next run starts.</summary>
public sealed record Relaunching(string Cause) : LifeInput;

/// <summary>
/// while_down: a dependency is down: the instance is not restarted against it. Its restarts pause and
/// are not counted (it did not fail on its own) until the dependency is ready again.
/// </summary>
public sealed record HeldFor(string Dependency, string Why) : LifeInput;

/// <summary>The dependency an instance was held for is ready again: the next run starts, uncounted.</summary>
public sealed record HoldReleased(string Dependency) : LifeInput;

/// <summary>The breaker opened: no restart for <see cref="For"/>, then one half-open attempt.</summary>
public sealed record BreakerOpened(TimeSpan For, int Opens, string Why) : LifeInput;

/// <summary>The half-open attempt stayed up (and ready): the breaker closed. The state does not change.</summary>
public sealed record BreakerClosed(int Pid) : LifeInput;

/// <summary>The run loop ended for good: stopped, errored or blocked, and why (<see cref="Detail"/>: more for the daemon log).</summary>
public sealed record LoopEnded(InstanceStatus Final, string Reason, InstanceEndKind Kind, string? Detail = null) : LifeInput;

/// <summary>One step of an instance's life, as observers see it: the state before and after, and what caused it.</summary>
public sealed record InstanceTransition(string App, int Number, LifeState Before, LifeState After, LifeInput Input)
{
    public string Label => $"{App}#{Number}";

    /// <summary>The restart counter moved up: a restart to count in the metrics, by its cause.</summary>
    public string? CountedRestart => Input is not Adopted && After.Restarts > Before.Restarts ? After.LastRestartReason : null;
}

/// <summary>
/// An instance's lifecycle as a pure function: state × input → the next state, or null when the
/// input means nothing in that state (a readiness change of a process that is no longer online).
/// No processes, no clock, no locks: <see cref="Instance"/> applies it under its lock and publishes
/// every transition once to its observers (log, events, metrics, the app's change feed, state).
/// </summary>
public static class InstanceLifecycle
{
    public static LifeState? Next(LifeState s, LifeInput input) => input switch
    {
        LoopBegins b => b.WaitsForDependencies
            ? s with { Status = InstanceStatus.Waiting, Ready = false, StatusReason = "waiting for dependencies" }
            : s with { Status = InstanceStatus.Launching, Ready = false, StatusReason = null },
        DependenciesMet => s.Status == InstanceStatus.Waiting ? s with { Status = InstanceStatus.Launching, StatusReason = null } : null,
        RestartCommanded r => r.Counts
            ? s with { Restarts = s.Restarts + 1, LastRestartReason = r.Reason, StatusReason = null }
            : s with { StatusReason = null },
        CountersReset => s with { Restarts = 0 },
        ProcessStarted => s.Status == InstanceStatus.Launching ? s : null,
        CameOnline o => s.Status == InstanceStatus.Launching ? s with { Status = InstanceStatus.Online, Ready = o.ReadyAtOnce } : null,
        Adopted a => s.Status == InstanceStatus.Launching ? s with { Status = InstanceStatus.Online, Ready = a.Ready, Restarts = a.Restarts } : null,
        SpawnFailed => s.Status == InstanceStatus.Launching ? s : null,
        ReadinessChanged r => s.Status == InstanceStatus.Online ? s with { Ready = r.Ready } : null,
        StopBegins => s.Status is InstanceStatus.Online or InstanceStatus.Stopping ? s with { Status = InstanceStatus.Stopping, Ready = false } : null,
        AppReportsStopping => s.Status is InstanceStatus.Online or InstanceStatus.Stopping ? s with { Status = InstanceStatus.Stopping, Ready = false } : null,
        // Online without a process would be a lie (a list between the exit and the supervisor's decision
        // showed "online" with no pid): waiting, until the restart, the in-place restart or the end decides.
        ProcessExited => s.Status == InstanceStatus.Online ? s with { Status = InstanceStatus.Waiting, Ready = false } : s with { Ready = false },
        RestartsInPlace r => IsFinal(s.Status) ? null : s with { Status = InstanceStatus.Launching, Ready = false, Restarts = s.Restarts + 1, LastRestartReason = r.Reason, StatusReason = null },
        RestartScheduled r => IsFinal(s.Status) ? null : s with { Status = InstanceStatus.Waiting, Ready = false, StatusReason = $"restart after {r.Cause}" },
        Relaunching r => s.Status == InstanceStatus.Waiting
            ? s with { Status = InstanceStatus.Launching, Restarts = s.Restarts + 1, LastRestartReason = r.Cause, StatusReason = null }
            : null,
        BreakerOpened b => IsFinal(s.Status) ? null : s with
        {
            Status = InstanceStatus.Waiting, Ready = false,
            StatusReason = $"breaker open: {b.Why}; half-open attempt in {Config.Units.FormatDuration(b.For)}",
        },
        BreakerClosed => s.Status == InstanceStatus.Online ? s : null,
        HeldFor h => IsFinal(s.Status) ? null : s with { Status = InstanceStatus.Waiting, Ready = false, StatusReason = $"held: {h.Why}" },
        HoldReleased => s.Status == InstanceStatus.Waiting ? s with { Status = InstanceStatus.Launching, StatusReason = null } : null,
        LoopEnded e => IsFinal(e.Final)
            ? s with { Status = e.Final, Ready = false, StatusReason = e.Reason }
            : throw new ArgumentException($"a loop ends stopped, errored or blocked, not {e.Final}", nameof(input)),
        _ => throw new ArgumentException($"unknown input {input.GetType().Name}", nameof(input)),
    };

    private static bool IsFinal(InstanceStatus status) => status is InstanceStatus.Stopped or InstanceStatus.Errored or InstanceStatus.Blocked;
}
