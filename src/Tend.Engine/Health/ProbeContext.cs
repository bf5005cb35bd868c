namespace Tend.Health;

/// <summary>What probes of one instance need to know about it.</summary>
/// <param name="Cwd">The app's working directory (absolute): where exec probes run.</param>
/// <param name="Environment">The instance's complete environment: what exec probes get.</param>
public sealed record ProbeContext(string Cwd, IReadOnlyDictionary<string, string> Environment)
{
    /// <summary>The clock probes measure latency and timeouts with.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;
}
