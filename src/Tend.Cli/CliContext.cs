using System.Collections;

namespace Tend.Cli;

/// <summary>
/// What the commands need from the outside world, gathered once: the daemon's home, whether stdout
/// gets colours, and the working directory and environment that `start` sends. There is no seam
/// for a stand-in daemon: tests run the real `tend` against a real one.
/// Output and error writers are not here: they come from System.CommandLine's InvocationConfiguration.
/// </summary>
internal sealed class CliContext
{
    public required string Home { get; init; }

    /// <summary>ANSI colours on stdout: a terminal, NO_COLOR unset, TERM not "dumb".</summary>
    public bool Color { get; init; }

    /// <summary>stdout is a terminal: text from apps is escaped (<see cref="Rendering.Format.Printable"/>) before it reaches it.</summary>
    public bool Terminal { get; init; }

    public string CurrentDirectory { get; init; } = Environment.CurrentDirectory;

    /// <summary>The environment `start` hands to apps (they inherit the CLI's, like PM2).</summary>
    public Func<IReadOnlyDictionary<string, string>> GetEnvironment { get; init; } = ReadProcessEnvironment;

    /// <summary>Times in `describe` are shown in this zone.</summary>
    public TimeZoneInfo TimeZone { get; init; } = TimeZoneInfo.Local;

    /// <summary>The socket file, for cheap "is anything there at all" checks that need no HTTP stack.</summary>
    public string SocketPath => Path.Combine(Home, Tend.Api.ApiRoutes.SocketFileName);

    public DaemonClient CreateClient(bool autoStart) =>
        new(Home, autoStart ? DaemonLauncher.EnsureRunningAsync : null); // auto-start, like PM2

    public static CliContext FromEnvironment() => new()
    {
        Home = Tend.Api.ApiRoutes.ResolveHome(),
        Terminal = !Console.IsOutputRedirected,
        Color = !Console.IsOutputRedirected
            && string.IsNullOrEmpty(Environment.GetEnvironmentVariable("NO_COLOR"))
            && Environment.GetEnvironmentVariable("TERM") != "dumb",
    };

    private static IReadOnlyDictionary<string, string> ReadProcessEnvironment()
    {
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (DictionaryEntry entry in Environment.GetEnvironmentVariables())
        {
            // The daemon's dashboard token is for the daemon, not for every app started from this shell.
            if (entry.Key is string key && entry.Value is string value && key != "TEND_TOKEN") env[key] = value;
        }
        return env;
    }
}
