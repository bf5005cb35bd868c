namespace Tend.Cli;

/// <summary>
/// A failure the user should read, not a bug: printed as <c>error: Message</c> plus one line per
/// detail on stderr, and the process exits with <see cref="ExitCode"/> (1 unknown target or daemon
/// error, 2 bad usage or config).
/// </summary>
internal class CliException(string message, int exitCode = 1, IReadOnlyList<string>? details = null, Exception? inner = null)
    : Exception(message, inner)
{
    public int ExitCode { get; } = exitCode;
    public IReadOnlyList<string> Details { get; } = details ?? [];
}

/// <summary>Nothing listens on $TEND_HOME/tend.sock: the socket is missing or refuses connections.</summary>
internal sealed class DaemonNotRunningException(string home, Exception? inner = null)
    : CliException($"no daemon running (TEND_HOME={home})", 1, null, inner)
{
    public string Home { get; } = home;
}
