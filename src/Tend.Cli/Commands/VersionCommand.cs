using System.CommandLine;
using System.Reflection;
using Tend.Api;

namespace Tend.Cli.Commands;

/// <summary>
/// `tend version`: this CLI's version, and the running daemon's — without starting one. A daemon
/// left over from an older install is worth a warning: PM2 users know that trap.
/// </summary>
internal sealed class VersionCommand : TendCommand
{
    public VersionCommand(CliContext context) : base("version", "Print the versions of tend and of the running daemon.", context)
    {
    }

    internal static string CliVersion { get; } = ReadVersion();

    protected override async Task<int> ExecuteAsync(ParseResult parseResult, CancellationToken ct)
    {
        TextWriter output = Out(parseResult);
        output.WriteLine("tend " + CliVersion);

        // No socket file, no daemon: answer without loading the HTTP stack at all.
        if (!File.Exists(Context.SocketPath))
        {
            output.WriteLine("daemon not running");
            return 0;
        }

        using DaemonClient client = Context.CreateClient(autoStart: false);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(2));
        try
        {
            PingInfo ping = await client.GetAsync(ApiRoutes.Ping, TendJsonContext.Default.PingInfo, timeout.Token).ConfigureAwait(false);
            output.WriteLine($"daemon {ping.Version} (pid {ping.Pid})");
            if (WithoutBuild(ping.Version) != CliVersion)
                output.WriteLine("warning: the daemon runs another version; `tend kill` stops it, the next command starts this one");
        }
        catch (DaemonNotRunningException)
        {
            output.WriteLine("daemon not running");
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            output.WriteLine("daemon not answering");
        }
        return 0;
    }

    private static string ReadVersion()
    {
        string? informational = typeof(VersionCommand).Assembly
            .GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion;
        return string.IsNullOrEmpty(informational) ? "0.0.0" : WithoutBuild(informational);
    }

    /// <summary>The SDK appends "+&lt;commit&gt;"; the commit is noise when comparing versions.</summary>
    private static string WithoutBuild(string version)
    {
        int plus = version.IndexOf('+');
        return plus < 0 ? version : version[..plus];
    }
}
