namespace Tend.Config;

/// <summary>What a rule watches: an event, a threshold held for a while, an anomaly against a learnt baseline, or a memory trend.</summary>
public enum AlertKind
{
    Event,
    Threshold,
    Anomaly,
    Leak,
}

/// <summary>Where a notification goes (docs/alerts.md#channels).</summary>
public enum ChannelKind
{
    /// <summary>JSON in Alertmanager's webhook shape, signed with HMAC-SHA256 when the channel has a secret.</summary>
    Webhook,
    /// <summary>Slack's incoming-webhook JSON (Mattermost, Rocket.Chat and others take it too).</summary>
    Slack,
    /// <summary>A program run with TEND_ALERT_* variables; exit 0 means delivered.</summary>
    Command,
    /// <summary>An Alertmanager's own API (POST /api/v2/alerts).</summary>
    Alertmanager,
}

/// <summary>
/// One notification channel: declared by name under <c>channels:</c>, or inline in a rule (then
/// named after the rule). <see cref="Secret"/> signs webhook bodies; it never appears in a payload.
/// </summary>
public sealed record ChannelSpec
{
    public required string Name { get; init; }
    public required ChannelKind Kind { get; init; }
    /// <summary>The URL (webhook, slack, alertmanager's base URL).</summary>
    public string? Url { get; init; }
    /// <summary>The program and its arguments (command).</summary>
    public EquatableArray<string> Command { get; init; } = EquatableArray<string>.Empty;
    public string? Secret { get; init; }
    /// <summary>How long one delivery attempt may take.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(10);
    /// <summary>How long the outbox keeps retrying a notification before it records it as undeliverable.</summary>
    public TimeSpan GiveUpAfter { get; init; } = TimeSpan.FromHours(24);
}

/// <summary>Which way an anomaly counts: a rise, a fall, or either.</summary>
public enum AnomalyDirection
{
    Up,
    Down,
    Both,
}

/// <summary>
/// One alert rule, validated (docs/alerts.md). Which fields matter depends on <see cref="Kind"/>:
/// Event uses <see cref="On"/>; Threshold uses <see cref="Metric"/>, <see cref="Above"/>/<see cref="Below"/>
/// and <see cref="For"/>; Anomaly uses <see cref="Metric"/> and the baseline's settings; Leak uses
/// the trend's window, rate and fit. Flat rather than a hierarchy so the state file stores it as is.
/// </summary>
public sealed record AlertRuleSpec
{
    public required string Name { get; init; }
    /// <summary>App names, globs (<c>web-*</c>, <c>*</c>), or supervisor names (their whole subtree).</summary>
    public required EquatableArray<string> Match { get; init; }
    public required AlertKind Kind { get; init; }
    /// <summary>The event (Kind Event): crash, crash_loop, errored, oom, liveness_failed, not_ready, …</summary>
    public string? On { get; init; }
    /// <summary>The series (Threshold, Anomaly, Leak): cpu, memory, restarts, log, probe_latency, dotnet.gc_heap, …</summary>
    public string? Metric { get; init; }
    public double? Above { get; init; }
    public double? Below { get; init; }
    /// <summary>How long the condition must hold before the alert fires (pending until then).</summary>
    public TimeSpan For { get; init; }
    /// <summary>The window a rate-like series counts over (restarts, log) or a leak's trend is fitted over.</summary>
    public TimeSpan Window { get; init; }
    /// <summary>The regular expression log lines are matched against (metric: log).</summary>
    public string? Pattern { get; init; }

    // Anomaly.
    public double K { get; init; } = 4;
    public double ResolveK { get; init; } = 2;
    public int MinSamples { get; init; } = 30;
    /// <summary>How many samples the baseline remembers.</summary>
    public int Baseline { get; init; } = 300;
    /// <summary>The smallest change that can count as an anomaly, in the series' unit (a flat baseline has no spread).</summary>
    public double? MinDelta { get; init; }
    public AnomalyDirection Direction { get; init; } = AnomalyDirection.Up;

    // Leak.
    /// <summary>The slowest growth that counts as a leak, in bytes per second.</summary>
    public double MinRate { get; init; }
    /// <summary>How well a straight line must fit the window (R², 0..1): a sawtooth fits badly.</summary>
    public double MinFit { get; init; } = 0.8;

    /// <summary>An event alert resolves once the instance has been running (and ready) this long again.</summary>
    public TimeSpan ResolveAfter { get; init; } = TimeSpan.FromSeconds(10);
    /// <summary>A firing alert is sent again this often; null: once.</summary>
    public TimeSpan? RepeatInterval { get; init; }
    public string Severity { get; init; } = "warning";
    public string? Summary { get; init; }
    /// <summary>The channels it notifies, by name.</summary>
    public EquatableArray<string> Notify { get; init; } = EquatableArray<string>.Empty;
}

/// <summary>
/// A collection rule (docs/alerts.md#collection-rules): when an alert fires (or before a max_memory
/// restart), collect a diagnostic from the instance concerned, at most <see cref="Count"/> times per
/// <see cref="Per"/> (counted across daemon restarts), and no heap copy while free memory is below
/// <see cref="MinFreeMemory"/>.
/// </summary>
public sealed record DiagnosticRuleSpec
{
    public required string Name { get; init; }
    /// <summary>Alert rule names, or <c>memory_limit</c> (collect first, then restart).</summary>
    public required EquatableArray<string> When { get; init; }
    /// <summary>Apps it applies to (names, globs); empty: every app the triggers concern.</summary>
    public EquatableArray<string> Match { get; init; } = EquatableArray<string>.Empty;
    /// <summary>dump, gcdump, trace, core or heapsnapshot.</summary>
    public required string Collect { get; init; }
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(10);
    public int Count { get; init; } = 1;
    public TimeSpan Per { get; init; } = TimeSpan.FromHours(1);
    public long MinFreeMemory { get; init; } = 512L * 1024 * 1024;
}

/// <summary>The alerts: and channels: of one config file.</summary>
public sealed record AlertsSpec(EquatableArray<AlertRuleSpec> Rules, EquatableArray<ChannelSpec> Channels)
{
    public static AlertsSpec None { get; } = new(EquatableArray<AlertRuleSpec>.Empty, EquatableArray<ChannelSpec>.Empty);

    /// <summary>diagnostics: the collections its alerts (and max_memory restarts) trigger.</summary>
    public EquatableArray<DiagnosticRuleSpec> Diagnostics { get; init; } = EquatableArray<DiagnosticRuleSpec>.Empty;

    public bool IsEmpty => Rules.Count == 0 && Channels.Count == 0 && Diagnostics.Count == 0;
}
