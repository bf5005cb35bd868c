using System.Globalization;
using System.Text;

namespace Tend.Daemon.Commands.Startup;

/// <summary>Which service manager instance runs the unit: the system's (root writes it) or a user's own (`systemctl --user`).</summary>
internal enum UnitScope { System, User }

/// <summary>Everything a boot unit for the daemon says; <see cref="SystemdUnit.Render"/> turns it into the file.</summary>
/// <param name="Tend">The stable, absolute path of the tend executable the unit runs (`tend daemon run`).</param>
/// <param name="User">The account the daemon runs as (system units only; a user unit runs as its owner).</param>
/// <param name="StopTimeout">Longer than stopping every saved app takes: systemd must not SIGKILL Tend mid-way.</param>
internal sealed record UnitSpec(
    UnitScope Scope, string Tend, string User, string Group, string Home, string TendHome, string Path,
    TimeSpan StopTimeout, string? SocketGroup, string Version)
{
    public string Name => Scope == UnitScope.System ? $"tend-{User}.service" : "tend.service";
}

/// <summary>
/// The systemd unit `tend startup` writes (docs/startup.md says why each line is there). Pure: the
/// same spec gives the same text, which the tests run through `systemd-analyze verify`.
/// </summary>
internal static class SystemdUnit
{
    /// <summary>How long the daemon may take to restore its apps before systemd gives up on the start.</summary>
    public static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(2);

    /// <summary>The watchdog: the daemon pings at half of it while its engine answers.</summary>
    public static readonly TimeSpan Watchdog = TimeSpan.FromSeconds(60);

    public static string Render(UnitSpec spec)
    {
        var b = new StringBuilder();
        b.Append("# Written by `tend startup` (Tend ").Append(spec.Version).Append("). Remove it with `tend unstartup`").Append('\n');
        b.Append("# rather than by hand, and write it again (`tend startup`) after changing where Tend is installed.\n");
        b.Append("[Unit]\n");
        b.Append("Description=Tend process manager (").Append(Escape(spec.Scope == UnitScope.System ? $"user {spec.User}, " : "")).Append("home ").Append(Escape(spec.TendHome)).Append(")\n");
        b.Append("After=network-online.target\n");
        b.Append("Wants=network-online.target\n");
        b.Append('\n');
        b.Append("[Service]\n");
        // The daemon says READY=1 once the declared apps are restored, STOPPING=1, and WATCHDOG=1.
        b.Append("Type=notify\n");
        b.Append("NotifyAccess=main\n");
        if (spec.Scope == UnitScope.System)
        {
            b.Append("User=").Append(Escape(spec.User)).Append('\n');
            b.Append("Group=").Append(Escape(spec.Group)).Append('\n');
        }
        b.Append("Environment=").Append(Quote("HOME=" + spec.Home)).Append('\n');
        b.Append("Environment=").Append(Quote("TEND_HOME=" + spec.TendHome)).Append('\n');
        b.Append("Environment=").Append(Quote("PATH=" + spec.Path)).Append('\n');
        b.Append("ExecStart=").Append(Quote(spec.Tend)).Append(" daemon run");
        if (spec.SocketGroup is { } group) b.Append(" --socket-group ").Append(Quote(group));
        b.Append('\n');
        // SIGTERM to the daemon alone: it stops the apps itself, in reverse start order, each with its
        // own stop signal and kill_timeout. A crash of the daemon leaves the apps running for the next
        // one to adopt (docs/upgrade.md); `mixed` or `control-group` would kill them all at once.
        b.Append("KillMode=process\n");
        b.Append("TimeoutStartSec=").Append(Seconds(StartTimeout)).Append('\n');
        b.Append("TimeoutStopSec=").Append(Seconds(spec.StopTimeout)).Append('\n');
        b.Append("WatchdogSec=").Append(Seconds(Watchdog)).Append('\n');
        b.Append("Restart=on-failure\n");
        b.Append("RestartSec=1\n");
        // The unit's cgroup subtree is Tend's to manage: a cgroup per instance (docs/isolation.md).
        b.Append("Delegate=yes\n");
        // Where the daemon keeps its apps' pipes and sockets, so that a crash does not cost a restart
        // (systemd before 254 does not tell the service it has a store: TEND_FDSTORE does).
        b.Append("FileDescriptorStoreMax=4096\n");
        b.Append("Environment=TEND_FDSTORE=1\n");
        b.Append("LimitNOFILE=1048576\n");
        b.Append('\n');
        b.Append("[Install]\n");
        b.Append("WantedBy=").Append(spec.Scope == UnitScope.System ? "multi-user.target" : "default.target").Append('\n');
        return b.ToString();
    }

    private static string Seconds(TimeSpan t) =>
        t == Timeout.InfiniteTimeSpan ? "infinity" : ((long)Math.Ceiling(t.TotalSeconds)).ToString(CultureInfo.InvariantCulture);

    /// <summary>systemd expands specifiers (%h, %u, …) in most settings; a literal '%' is written "%%".</summary>
    private static string Escape(string value) => value.Replace("%", "%%", StringComparison.Ordinal);

    /// <summary>One word of a command line or an Environment= assignment: quoted (with \ and " escaped) when it needs to be.</summary>
    internal static string Quote(string value)
    {
        string escaped = Escape(value);
        bool plain = escaped.Length > 0 && escaped.All(c => !char.IsWhiteSpace(c) && c is not ('"' or '\'' or '\\' or ';'));
        return plain ? escaped : "\"" + escaped.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";
    }
}
