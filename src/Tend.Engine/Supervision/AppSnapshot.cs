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
    IReadOnlyList<string>? Listen);
