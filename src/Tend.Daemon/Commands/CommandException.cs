namespace Tend.Daemon.Commands;

/// <summary>
/// A failure the user should read, not a bug, in an engine command: printed as <c>error: Message</c>
/// plus one line per detail on stderr, as the CLI prints its own, and the process exits with
/// <see cref="ExitCode"/> (1 failure, 2 bad usage or config).
/// </summary>
internal sealed class CommandException(string message, int exitCode = 1, IReadOnlyList<string>? details = null) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
    public IReadOnlyList<string> Details { get; } = details ?? [];
}
