using Tend.Config;

namespace Tend.Alerts;

/// <summary>One pending or firing alert as the engine tracks it (under its lock); <see cref="Snapshot"/> is what leaves.</summary>
internal sealed class ActiveAlert(string source, AlertRuleSpec rule, string app, int? instance, string fingerprint, DateTimeOffset since)
{
    public string Source { get; } = source;
    public AlertRuleSpec Rule { get; } = rule;
    public string App { get; } = app;
    public int? Instance { get; } = instance;
    public string Fingerprint { get; } = fingerprint;
    public DateTimeOffset Since { get; } = since;
    public AlertState State { get; set; } = AlertState.Pending;
    public DateTimeOffset? FiredAt { get; set; }
    public DateTimeOffset? ResolvedAt { get; set; }
    public string? ResolvedBecause { get; set; }
    public required string Summary { get; set; }
    public required string Description { get; set; }
    public double? Value { get; set; }
    public int Repeats { get; set; }
    public int Notifications { get; set; }
    /// <summary>A firing has been sent: the resolve must be sent too.</summary>
    public bool Notified { get; set; }
    public DateTimeOffset? LastNotifiedAt { get; set; }
    /// <summary>Since when the instance has been up again (an event alert resolves after a quiet period).</summary>
    public DateTimeOffset? RecoveringSince { get; set; }
    public string? InhibitedBy { get; set; }

    public string Label => Instance is int n ? $"{App}#{n}" : App;

    public AlertSnapshot Snapshot() => new()
    {
        Fingerprint = Fingerprint,
        Rule = Rule.Name,
        App = App,
        Instance = Instance,
        State = State,
        Severity = Rule.Severity,
        Summary = Summary,
        Description = Description,
        Value = Value,
        Since = Since,
        FiredAt = FiredAt,
        ResolvedAt = ResolvedAt,
        ResolvedBecause = ResolvedBecause,
        InhibitedBy = Notified ? null : InhibitedBy,
        Repeats = Repeats,
        Notifications = Notifications,
        Source = Source,
    };

    public PersistedAlert Persist() => new(Snapshot(), Notified, LastNotifiedAt, RecoveringSince);

    public static ActiveAlert From(PersistedAlert p, AlertRuleSpec rule)
    {
        AlertSnapshot s = p.Alert;
        return new ActiveAlert(s.Source, rule, s.App, s.Instance, s.Fingerprint, s.Since)
        {
            State = s.State,
            FiredAt = s.FiredAt,
            Summary = s.Summary,
            Description = s.Description,
            Value = s.Value,
            Repeats = s.Repeats,
            Notifications = s.Notifications,
            Notified = p.Notified,
            LastNotifiedAt = p.LastNotifiedAt,
            RecoveringSince = p.RecoveringSince,
        };
    }
}
