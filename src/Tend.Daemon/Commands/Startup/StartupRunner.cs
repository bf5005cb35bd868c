using Tend.Api;

namespace Tend.Daemon.Commands.Startup;

/// <summary>
/// `tend startup`: write a systemd unit that starts the daemon at boot (Type=notify), which restores
/// the declared apps (docs/startup.md); `--dry-run` prints it instead. `tend unstartup` disables and
/// removes it, and leaves the running daemon alone.
/// </summary>
internal static class StartupRunner
{
    public static int Startup(StartupInvocation invocation, TextWriter output, TextWriter error)
    {
        var request = new StartupRequest(ScopeOf(invocation.Scope), invocation.User, invocation.Home, invocation.Binary,
            invocation.SocketGroup, invocation.UnitDir, invocation.TendPath);
        StartupPlan plan = StartupPlanner.Plan(request, invocation.CurrentHome, invocation.Version, Environment.GetEnvironmentVariable);
        string text = SystemdUnit.Render(plan.Unit);
        if (invocation.DryRun)
        {
            output.Write(text);
            foreach (string note in plan.Notes) error.WriteLine("# " + note);
            return 0;
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
            throw new CommandException($"cannot write {plan.UnitPath}: {e.Message}", 1);
        }
        output.WriteLine($"wrote {plan.UnitPath}");
        foreach (string note in plan.Notes) output.WriteLine(note);

        UnitScope s = plan.Unit.Scope;
        string name = plan.Unit.Name;
        if (invocation.NoEnable || invocation.UnitDir is not null)
        {
            output.WriteLine($"to start it at boot: {Systemctl.Command(s, "daemon-reload")} && {Systemctl.Command(s, "enable " + name)}");
            return 0;
        }
        if (!Systemctl.IsBooted)
        {
            output.WriteLine($"systemd does not run this machine now; where it does: {Systemctl.Command(s, "daemon-reload")} && {Systemctl.Command(s, "enable " + name)}");
            return 0;
        }
        if ((Systemctl.Run(s, "daemon-reload") ?? Systemctl.Run(s, "enable", name)) is string failed)
            throw new CommandException($"wrote {plan.UnitPath}, but enabling it failed: {failed}", 1);
        output.WriteLine($"enabled {name}: Tend starts at boot and restores the saved apps");
        output.WriteLine($"a daemon running now keeps running; to hand it to systemd: tend kill && {Systemctl.Command(s, "start " + name)}");
        return 0;
    }

    public static int Unstartup(UnstartupInvocation invocation, TextWriter output, TextWriter error)
    {
        // The same resolution as startup, so the same arguments name the same file.
        var request = new StartupRequest(ScopeOf(invocation.Scope), invocation.User, null, null, null, invocation.UnitDir);
        var (s, _, _, unitPath) = StartupPlanner.Locate(request, Environment.GetEnvironmentVariable);
        string name = Path.GetFileName(unitPath);
        if (!File.Exists(unitPath)) throw new CommandException($"no unit at {unitPath} (nothing to remove)", 1);
        bool managed = invocation.UnitDir is null && Systemctl.IsBooted;
        if (managed && Systemctl.Run(s, "disable", name) is string failed) error.WriteLine("warning: " + failed);
        File.Delete(unitPath);
        if (managed) _ = Systemctl.Run(s, "daemon-reload");
        output.WriteLine($"removed {unitPath}; the daemon running now keeps running (stop it with `tend kill`)");
        return 0;
    }

    private static UnitScope? ScopeOf(string? scope) => scope switch
    {
        "system" => UnitScope.System,
        "user" => UnitScope.User,
        null => null,
        _ => throw new CommandException($"unknown unit scope \"{scope}\"", 2),
    };
}
