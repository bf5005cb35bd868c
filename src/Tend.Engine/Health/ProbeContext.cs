namespace Tend.Health;

/// <summary>What probes of one instance need to know about it.</summary>
/// <param name="Cwd">The app's working directory (absolute): where exec probes run.</param>
/// <param name="Environment">The instance's complete environment: what exec probes get.</param>
public sealed record ProbeContext(string Cwd, IReadOnlyDictionary<string, string> Environment)
{
    /// <summary>The clock probes measure latency and timeouts with.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>The app's user, groups, limits and privileges: an exec probe runs with them, as
    /// systemd runs ExecStartPre= as the unit's User= (not in the instance's cgroup: a probe is
    /// Tend's, and must not count against the app's pids or memory).</summary>
    public Isolation.ProcessIsolation? Isolation { get; init; }
}
