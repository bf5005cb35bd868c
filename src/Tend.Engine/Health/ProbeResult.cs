namespace Tend.Health;

/// <summary>The outcome of one check.</summary>
/// <param name="Success">Whether the check passed.</param>
/// <param name="Latency">How long the check took, as measured by the probe's clock.</param>
/// <param name="Detail">Short human text for describe and events: "HTTP 200", "connection refused",
/// "timed out after 1s", "exit code 3", "matched: …", "no match yet".</param>
public readonly record struct ProbeResult(bool Success, TimeSpan Latency, string Detail);
