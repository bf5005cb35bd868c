using System.CommandLine;
using Tend.Cli.Startup;

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
        UnitScope? scope = parseResult.GetValue(_system) ? UnitScope.System : parseResult.GetValue(_userUnit) ? UnitScope.User : null;
        var request = new StartupRequest(scope, parseResult.GetValue(_user), parseResult.GetValue(_home), parseResult.GetValue(_binary),
            parseResult.GetValue(_socketGroup), parseResult.GetValue(_unitDir));
        StartupPlan plan = StartupPlanner.Plan(request, Context.Home, VersionCommand.CliVersion, Environment.GetEnvironmentVariable);
        string text = SystemdUnit.Render(plan.Unit);
        TextWriter output = Out(parseResult), error = Error(parseResult);
        if (parseResult.GetValue(_dryRun))
        {
            output.Write(text);
            foreach (string note in plan.Notes) error.WriteLine("# " + note);
            return Task.FromResult(0);
        }

        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(plan.UnitPath)!);
            // Whole or not at all: a half-written unit would fail the next boot.
            string tmp = plan.UnitPath + ".tmp";
            File.WriteAllText(tmp, text);
            File.SetUnixFileMode(tmp, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
            File.Move(tmp, plan.UnitPath, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"cannot write {plan.UnitPath}: {e.Message}", 1);
        }
        output.WriteLine($"wrote {plan.UnitPath}");
        foreach (string note in plan.Notes) output.WriteLine(note);

        UnitScope s = plan.Unit.Scope;
        string name = plan.Unit.Name;
        if (parseResult.GetValue(_noEnable) || parseResult.GetValue(_unitDir) is not null)
        {
            output.WriteLine($"to start it at boot: {Systemctl.Command(s, "daemon-reload")} && {Systemctl.Command(s, "enable " + name)}");
            return Task.FromResult(0);
        }
        if (!Systemctl.IsBooted)
        {
            output.WriteLine($"systemd does not run this machine now; where it does: {Systemctl.Command(s, "daemon-reload")} && {Systemctl.Command(s, "enable " + name)}");
            return Task.FromResult(0);
        }
        if ((Systemctl.Run(s, "daemon-reload") ?? Systemctl.Run(s, "enable", name)) is string failed)
            throw new CliException($"wrote {plan.UnitPath}, but enabling it failed: {failed}", 1);
        output.WriteLine($"enabled {name}: Tend starts at boot and restores the saved apps");
        output.WriteLine($"a daemon running now keeps running; to hand it to systemd: tend kill && {Systemctl.Command(s, "start " + name)}");
        return Task.FromResult(0);
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
        UnitScope? scope = parseResult.GetValue(_system) ? UnitScope.System : parseResult.GetValue(_userUnit) ? UnitScope.User : null;
        // The same resolution as startup, so the same arguments name the same file.
        var request = new StartupRequest(scope, parseResult.GetValue(_user), null, null, null, parseResult.GetValue(_unitDir));
        var (s, _, _, unitPath) = StartupPlanner.Locate(request, Environment.GetEnvironmentVariable);
        string name = Path.GetFileName(unitPath);
        if (!File.Exists(unitPath)) throw new CliException($"no unit at {unitPath} (nothing to remove)", 1);
        bool managed = parseResult.GetValue(_unitDir) is null && Systemctl.IsBooted;
        if (managed && Systemctl.Run(s, "disable", name) is string failed) Error(parseResult).WriteLine("warning: " + failed);
        File.Delete(unitPath);
        if (managed) _ = Systemctl.Run(s, "daemon-reload");
        Out(parseResult).WriteLine($"removed {unitPath}; the daemon running now keeps running (stop it with `tend kill`)");
        return Task.FromResult(0);
    }
}
