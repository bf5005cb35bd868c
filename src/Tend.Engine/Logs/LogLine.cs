namespace Tend.Logs;

/// <summary>
/// One line of an instance's output, as seen by live subscribers and by <see cref="LogReader"/>.
/// <paramref name="Time"/> is null when a line read back from a file has no parsable timestamp
/// (timestamps were off, or the file was written by something else).
/// <paramref name="Text"/> never contains the trailing newline.
/// </summary>
public sealed record LogLine(DateTimeOffset? Time, string App, int Instance, LogStream Stream, string Text);
