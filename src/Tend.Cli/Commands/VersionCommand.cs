using System.CommandLine;
using System.Reflection;
using Tend.Api;
using Tend.Cli.Rendering;

namespace Tend.Cli.Commands;

/// <summary>
/// `tend version`: this CLI's version, and the running daemon's — without starting one. A daemon
/// left over from an older install is worth a warning: PM2 users know that trap.
/// </summary>
internal sealed class VersionCommand : TendCommand
{
    private readonly Option<bool> _json = new("--json")
    {
        Description = "{\"cli\", \"daemon\": running, not running or not answering, \"daemon_version\", \"daemon_pid\", \"same\"}",
    };

    public VersionCommand(CliContext context) : base("version", "Print the versions of tend and of the running daemon.", context)
    {
        Add(_json);
    }

    internal static string CliVersion { get; } = ReadVersion();

    protected override async Task<int> ExecuteAsync(ParseResult parseResult, CancellationToken ct)
    {
        TextWriter output = Out(parseResult);
        (string state, PingInfo? ping) = await AskDaemonAsync(ct).ConfigureAwait(false);
        bool same = ping is null || WithoutBuild(ping.Version) == CliVersion;
        if (parseResult.GetValue(_json))
        {
            output.WriteLine(JsonText.Build(json =>
            {
                json.WriteStartObject();
                json.WriteString("cli", CliVersion);
                json.WriteString("daemon", state);
                if (ping is null) json.WriteNull("daemon_version"); else json.WriteString("daemon_version", ping.Version);
                if (ping is null) json.WriteNull("daemon_pid"); else json.WriteNumber("daemon_pid", ping.Pid);
                if (ping is null) json.WriteNull("same"); else json.WriteBoolean("same", same);
                json.WriteEndObject();
            }));
            return 0;
        }
        output.WriteLine("tend " + CliVersion);
        output.WriteLine(ping is null ? "daemon " + state : $"daemon {ping.Version} (pid {ping.Pid})");
        if (!same) output.WriteLine("warning: the daemon runs another version; `tend kill` stops it, the next command starts this one");
        return 0;
    }

    /// <summary>The daemon's answer to a ping, without starting one: "running", "not running" or "not answering" (2 s).</summary>
    private async Task<(string State, PingInfo? Ping)> AskDaemonAsync(CancellationToken ct)
    {
        // No socket file, no daemon: answer without connecting at all.
        if (!File.Exists(Context.SocketPath)) return ("not running", null);
        using DaemonClient client = Context.CreateClient(autoStart: false);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(2));
        try
        {
            return ("running", await client.GetAsync(ApiRoutes.Ping, TendJsonContext.Default.PingInfo, timeout.Token).ConfigureAwait(false));
        }
        catch (DaemonNotRunningException)
        {
            return ("not running", null);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return ("not answering", null);
        }
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
