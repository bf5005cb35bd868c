using System.Text;
using Tend.Config;
using Tend.Hashing;

namespace Tend.Alerts;

/// <summary>An alert's state: pending while its condition has not held for <c>for:</c> yet, firing, then resolved.</summary>
public enum AlertState
{
    Pending,
    Firing,
    Resolved,
}

/// <summary>
/// One alert at one moment, as the engine reports it (`tend alerts`, the dashboard, /metrics, the
/// outbox). Its identity is <see cref="Fingerprint"/>: rule, app and instance.
/// </summary>
public sealed record AlertSnapshot
{
    public required string Fingerprint { get; init; }
    public required string Rule { get; init; }
    public required string App { get; init; }
    public int? Instance { get; init; }
    public required AlertState State { get; init; }
    public required string Severity { get; init; }
    /// <summary>What it is about, in one line.</summary>
    public required string Summary { get; init; }
    /// <summary>What was seen: the event's message, the value against the level, the trend and its projection.</summary>
    public required string Description { get; init; }
    /// <summary>The series' last value, when the rule watches one.</summary>
    public double? Value { get; init; }
    /// <summary>When the condition began (pending) and when it fired.</summary>
    public required DateTimeOffset Since { get; init; }
    public DateTimeOffset? FiredAt { get; init; }
    public DateTimeOffset? ResolvedAt { get; init; }
    /// <summary>Why it resolved (the instance is up again, the value fell back, the app was deleted).</summary>
    public string? ResolvedBecause { get; init; }
    /// <summary>Muted by a firing alert of the app it depends on (or of its own crash): nobody is notified while it is.</summary>
    public string? InhibitedBy { get; init; }
    /// <summary>How many times its condition was seen again while it fired (deduplicated, not sent).</summary>
    public int Repeats { get; init; }
    /// <summary>Notifications sent for it (a firing, repeats, the resolve).</summary>
    public int Notifications { get; init; }
    public required string Source { get; init; }

    public string Label => Instance is int n ? $"{App}#{n}" : App;

    /// <summary>rule + app + instance, hashed: stable across daemon runs, the same at every receiver.</summary>
    public static string FingerprintOf(string rule, string app, int? instance)
    {
        byte[] hash = Sha256.Hash(Encoding.UTF8.GetBytes($"{rule}\n{app}\n{instance?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? ""}"));
        return Convert.ToHexStringLower(hash, 0, 8);
    }
}

/// <summary>What goes to the channels: the alert as it stood, and whether this is a firing (first or repeated) or the resolve.</summary>
public sealed record AlertNotification(string Id, AlertSnapshot Alert, DateTimeOffset At, bool Repeat);

/// <summary>Everything `tend alerts` shows.</summary>
public sealed record AlertsReport(
    IReadOnlyList<AlertSnapshot> Active,
    IReadOnlyList<AlertSnapshot> Recent,
    int Rules,
    IReadOnlyList<string> Channels,
    OutboxReport Outbox);

/// <summary>The outbox: notifications waiting for a channel, and those that could not be delivered.</summary>
public sealed record OutboxReport(int Pending, long Delivered, long Failed, IReadOnlyList<UndeliveredNotification> Undeliverable);

/// <summary>A notification given up on, with the last error; also a line in alerts/undeliverable.jsonl.</summary>
public sealed record UndeliveredNotification(string Id, string Channel, string Fingerprint, string Rule, string App, string Status, DateTimeOffset CreatedAt, DateTimeOffset GaveUpAt, int Attempts, string LastError);
