namespace Tend.Events;

/// <summary>
/// One lifecycle event as the engine records it (<see cref="EventHub"/>). Seq counts from 1 per
/// daemon run; 0 marks a notice that is not part of the sequence (events_dropped). Type is one of
/// <see cref="EventTypes"/>; Data holds the type's own fields as strings (docs/events.md lists them).
/// The daemon maps it to the wire at the edge.
/// </summary>
public sealed record LifecycleEvent(
    long Seq,
    DateTimeOffset Time,
    string Type,
    string? App,
    int? Instance,
    int? Pid,
    string Message,
    IReadOnlyDictionary<string, string>? Data = null);
