using System.Text.Json.Serialization;
using Tend.Config;

namespace Tend.Alerts;

/// <summary>The rules of each config file, as alerts/rules.json keeps them across daemon runs.</summary>
public sealed record PersistedRules(IReadOnlyList<PersistedRuleSet> Sets);

public sealed record PersistedRuleSet(string Source, IReadOnlyList<AlertRuleSpec> Rules, IReadOnlyList<ChannelSpec> Channels, IReadOnlyList<DiagnosticRuleSpec>? Diagnostics = null);

/// <summary>An active alert in alerts/active.json, with what the engine needs to go on where it stopped.</summary>
public sealed record PersistedAlert(AlertSnapshot Alert, bool Notified, DateTimeOffset? LastNotifiedAt, DateTimeOffset? RecoveringSince);

public sealed record PersistedAlerts(IReadOnlyList<PersistedAlert> Alerts, IReadOnlyList<AlertSnapshot> Recent);

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    UseStringEnumConverter = true,
    Converters = [typeof(State.StringArrayConverter)])]
[JsonSerializable(typeof(OutboxItem))]
[JsonSerializable(typeof(UndeliveredNotification))]
[JsonSerializable(typeof(PersistedRules))]
[JsonSerializable(typeof(PersistedAlerts))]
internal sealed partial class AlertJsonContext : JsonSerializerContext;
