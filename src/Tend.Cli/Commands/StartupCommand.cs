using System.CommandLine;
using Tend.Api;

namespace Tend.Cli.Commands;

/// <summary>
/// `tend startup`: write a systemd unit that starts the daemon at boot (Type=notify), which restores
/// the declared apps (docs/startup.md). `--dry-run` prints it instead.
/// </summary>
internal sealed class StartupCommand : TendCommand
{
    private readonly Option<string?> _user = new("--user") { Description = "Run the daemon as this user (a system unit; default: you)." };
    private readonly Option<bool> _system = new("--system") { Description = "A system unit in /etc/systemd/system (the default as root)." };
    private readonly Option<bool> _userUnit = new("--user-unit") { Description = "A unit of your own systemd (systemctl --user; the default when not root)." };
    private readonly Option<string?> _home = new("--home") { Description = "The TEND_HOME the daemon serves (default: yours, or the user's ~/.tend)." };
    private readonly Option<string?> _binary = new("--binary") { Description = "The stable path of tend the unit runs (default: this tend)." };
    private readonly Option<string?> _socketGroup = new("--socket-group") { Description = "Open the control socket to this group (operators need not be root)." };
    private readonly Option<string?> _unitDir = new("--unit-dir") { Description = "Write the unit here instead of systemd's folder (packaging, tests)." };
    private readonly Option<bool> _dryRun = new("--dry-run") { Description = "Print the unit; write nothing." };
    private readonly Option<bool> _noEnable = new("--no-enable") { Description = "Write the unit but do not run systemctl." };

    public StartupCommand(CliContext context) : base("startup", "Write a systemd unit that starts Tend at boot and restores the saved apps.", context)
    {
        foreach (Option o in new Option[] { _user, _system, _userUnit, _home, _binary, _socketGroup, _unitDir, _dryRun, _noEnable }) Options.Add(o);
    }

    protected override Task<int> ExecuteAsync(ParseResult parseResult, CancellationToken ct)
    {
        if (parseResult.GetValue(_system) && parseResult.GetValue(_userUnit))
            throw new CliException("--system and --user-unit: choose one", 2);
        string? scope = parseResult.GetValue(_system) ? "system" : parseResult.GetValue(_userUnit) ? "user" : null;
        // The unit's PATH and stop timeout come from the saved apps, read by the engine: the daemon's binary writes the unit (EngineHandoff).
        return Task.FromResult(EngineHandoff.Replace(EngineCommands.Startup,
            new StartupInvocation(scope, parseResult.GetValue(_user), parseResult.GetValue(_home), parseResult.GetValue(_binary),
                parseResult.GetValue(_socketGroup), parseResult.GetValue(_unitDir), parseResult.GetValue(_dryRun), parseResult.GetValue(_noEnable),
                Context.Home, CurrentTend(), VersionCommand.CliVersion),
            EngineCommandJsonContext.Default.StartupInvocation));
    }

    /// <summary>The tend this CLI is: its apphost (a dotnet tool's shim is one), never the dotnet host that may be running it; null when it cannot tell.</summary>
    private static string? CurrentTend()
    {
        string? self = Environment.ProcessPath;
        if (self is not null && Path.GetFileNameWithoutExtension(self) != "dotnet") return self;
        string beside = Path.Combine(AppContext.BaseDirectory, "tend");
        return File.Exists(beside) && Tend.Identity.ProcessIdentity.CanExecute(beside) ? beside : null;
    }
}

/// <summary>`tend unstartup`: disable and remove the unit `tend startup` wrote. The running daemon is left alone.</summary>
internal sealed class UnstartupCommand : TendCommand
{
    private readonly Option<string?> _user = new("--user") { Description = "The user the unit runs the daemon as (default: you)." };
    private readonly Option<bool> _system = new("--system") { Description = "The system unit (the default as root)." };
    private readonly Option<bool> _userUnit = new("--user-unit") { Description = "Your own systemd's unit (the default when not root)." };
    private readonly Option<string?> _unitDir = new("--unit-dir") { Description = "Where the unit was written, when not systemd's folder." };

    public UnstartupCommand(CliContext context) : base("unstartup", "Remove the systemd unit written by `tend startup`.", context)
    {
        foreach (Option o in new Option[] { _user, _system, _userUnit, _unitDir }) Options.Add(o);
    }

    protected override Task<int> ExecuteAsync(ParseResult parseResult, CancellationToken ct)
    {
        string? scope = parseResult.GetValue(_system) ? "system" : parseResult.GetValue(_userUnit) ? "user" : null;
        return Task.FromResult(EngineHandoff.Replace(EngineCommands.Unstartup,
            new UnstartupInvocation(scope, parseResult.GetValue(_user), parseResult.GetValue(_unitDir)),
            EngineCommandJsonContext.Default.UnstartupInvocation));
    }
}
