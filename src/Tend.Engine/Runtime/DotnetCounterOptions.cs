namespace Tend.Runtime;

/// <summary>
/// How the daemon watches .NET instances. <see cref="Interval"/>: how often the runtime reports
/// (EventCounterIntervalSec). <see cref="MaxSessions"/>: how many instances are watched at once;
/// one more waits for a free slot. <see cref="LookAfter"/>: when, counted from the spawn, to look
/// for the diagnostic socket; after the last look a process without one is taken as not .NET for
/// the rest of its run. <see cref="RetryAfter"/> and <see cref="MaxRetryAfter"/>: the backoff
/// between attempts when connecting fails or a session breaks while the process lives on.
/// </summary>
public sealed record DotnetCounterOptions
{
    // One shared list, so that two default options compare equal (a record compares lists by reference).
    private static readonly TimeSpan[] s_defaultLooks =
        [TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(4), TimeSpan.FromSeconds(8), TimeSpan.FromSeconds(16), TimeSpan.FromSeconds(30)];

    public TimeSpan Interval { get; init; } = TimeSpan.FromSeconds(5);
    public int MaxSessions { get; init; } = 64;
    public IReadOnlyList<TimeSpan> LookAfter { get; init; } = s_defaultLooks;
    public TimeSpan RetryAfter { get; init; } = TimeSpan.FromSeconds(5);
    public TimeSpan MaxRetryAfter { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// The daemon's options from its environment: <c>TEND_DOTNET_COUNTERS=0</c> turns watching off
    /// (null), <c>TEND_DOTNET_COUNTERS_INTERVAL</c> (seconds) and <c>TEND_DOTNET_COUNTERS_MAX</c>
    /// override the defaults. Values that do not parse are ignored.
    /// </summary>
    public static DotnetCounterOptions? FromEnvironment(Func<string, string?> env)
    {
        if (env("TEND_DOTNET_COUNTERS") is "0" or "false" or "off") return null;
        var options = new DotnetCounterOptions();
        if (int.TryParse(env("TEND_DOTNET_COUNTERS_INTERVAL"), out int seconds) && seconds is >= 1 and <= 3600)
            options = options with { Interval = TimeSpan.FromSeconds(seconds) };
        if (int.TryParse(env("TEND_DOTNET_COUNTERS_MAX"), out int max) && max >= 1)
            options = options with { MaxSessions = max };
        return options;
    }
}
