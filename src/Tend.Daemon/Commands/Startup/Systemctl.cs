using System.Diagnostics;

namespace Tend.Daemon.Commands.Startup;

/// <summary>systemctl, when systemd runs this machine (/run/systemd/system exists, as sd_booted(3) checks).</summary>
internal static class Systemctl
{
    public static bool IsBooted => Directory.Exists("/run/systemd/system");

    /// <summary>Runs `systemctl [--user] ARGS`; null when it succeeded, else what it said.</summary>
    public static string? Run(UnitScope scope, params string[] args)
    {
        var info = new ProcessStartInfo("systemctl") { RedirectStandardError = true, RedirectStandardOutput = true };
        if (scope == UnitScope.User) info.ArgumentList.Add("--user");
        foreach (string a in args) info.ArgumentList.Add(a);
        try
        {
            using Process p = Process.Start(info)!;
            string stderr = p.StandardError.ReadToEnd();
            p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            return p.ExitCode == 0 ? null : $"systemctl {string.Join(' ', info.ArgumentList)}: {stderr.Trim()}";
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return $"systemctl: {e.Message}";
        }
    }

    public static string Command(UnitScope scope, string args) => scope == UnitScope.User ? $"systemctl --user {args}" : $"systemctl {args}";
}
