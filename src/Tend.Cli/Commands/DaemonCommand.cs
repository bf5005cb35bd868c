using System.CommandLine;
using Tend.Api;

namespace Tend.Cli.Commands;

/// <summary>`tend daemon`: make sure the daemon runs, and print its pid (alone, for scripts). Its subcommands run it in the foreground and upgrade it.</summary>
internal sealed class DaemonCommand : TendCommand
{
    public DaemonCommand(CliContext context) : base("daemon", "Start the daemon if it is not running, and print its pid.", context)
    {
        Subcommands.Add(new DaemonRunCommand(context));
        Subcommands.Add(new UpgradeCommand(context));
    }

    protected override async Task<int> ExecuteAsync(ParseResult parseResult, CancellationToken ct)
    {
        using DaemonClient client = Context.CreateClient(autoStart: true);
        PingInfo ping = await client.GetAsync(ApiRoutes.Ping, TendJsonContext.Default.PingInfo, ct).ConfigureAwait(false);
        Out(parseResult).WriteLine(ping.Pid);
        return 0;
    }
}

/// <summary>
/// `tend daemon run`: become the daemon, in the foreground, in this very process (execve): what a
/// systemd unit runs (docs/startup.md). The unit names a stable `tend`; the daemon it becomes is found
/// at each start as the CLI finds it, so an upgrade of Tend needs no new unit.
/// </summary>
internal sealed class DaemonRunCommand : TendCommand
{
    private readonly Option<string?> _socketGroup = new("--socket-group") { Description = "Open the control socket to this group (mode 0660)." };
    private readonly Option<string?> _health = new("--health") { Description = "Where the health endpoints and the dashboard listen (HOST:PORT or off)." };
    private readonly Option<string?> _tokenFile = new("--token-file") { Description = "The bearer token for the API over TCP." };

    public DaemonRunCommand(CliContext context) : base("run", "Run the daemon in the foreground (what a systemd unit starts).", context)
    {
        Options.Add(_socketGroup);
        Options.Add(_health);
        Options.Add(_tokenFile);
    }

    protected override Task<int> ExecuteAsync(ParseResult parseResult, CancellationToken ct)
    {
        var env = new Dictionary<string, string>(Context.GetEnvironment(), StringComparer.Ordinal) { ["TEND_HOME"] = Context.Home };
        (string program, IReadOnlyList<string> args) = DaemonLauncher.LocateDaemonProgram(env.GetValueOrDefault("PATH"));
        var argv = new List<string> { program };
        argv.AddRange(args);
        argv.AddRange(["--home", Context.Home]);
        if (parseResult.GetValue(_socketGroup) is { } group) argv.AddRange(["--socket-group", group]);
        if (parseResult.GetValue(_health) is { } health) argv.AddRange(["--health", health]);
        if (parseResult.GetValue(_tokenFile) is { } token) argv.AddRange(["--token-file", Path.GetFullPath(token)]);
        string failure = Tend.Processes.ProcessImage.Replace(program, argv, env);
        throw new CliException($"cannot run the daemon: {failure}", 1);
    }
}
