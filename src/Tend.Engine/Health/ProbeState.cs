using Tend.Config;

namespace Tend.Health;

/// <summary>
/// A probe of an instance's current run: its role ("ready" or "live"), its spec, the state after
/// thresholds (<see cref="Passing"/>), the newest check (<see cref="Last"/>) and the run's recent
/// checks, oldest first.
/// </summary>
public sealed record ProbeState(
    string Role,
    ProbeSpec Spec,
    bool Passing,
    DateTimeOffset? LastAt,
    ProbeResult? Last,
    int ConsecutiveFailures,
    long Checks,
    long Failures,
    IReadOnlyList<ProbeCheckEntry> Recent);
