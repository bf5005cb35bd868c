using Tend.Config;
using Tend.Isolation;

namespace Tend.Diagnostics;

/// <summary>What the daemon knows about its host when `tend doctor` asks.</summary>
/// <param name="Subreaper">PR_SET_CHILD_SUBREAPER took: orphans of apps come to the daemon.</param>
public sealed record HostFacts(CgroupTree Cgroups, bool Subreaper, bool PidFd, uint DaemonUid, string? Setpriv, string? Prlimit, long? FdLimit, int FdsInUse);

/// <summary>A setting of an app that this host or daemon cannot honour.</summary>
public sealed record AppProblem(string App, string Field, string Message);

/// <summary>
/// The checks behind `tend doctor`: which of the apps' settings can be enforced on this host by
/// this daemon, and how many descriptors the fleet needs against the daemon's limit.
/// </summary>
public static class Doctor
{
    /// <summary>Descriptors the daemon holds whatever runs: its sockets, logs, epoll, the runtime's own.</summary>
    public const int BaseFds = 64;

    /// <summary>Every setting of <paramref name="apps"/> that cannot be enforced here.</summary>
    public static IReadOnlyList<AppProblem> Problems(IEnumerable<AppSpec> apps, HostFacts host)
    {
        var problems = new List<AppProblem>();
        foreach (AppSpec app in apps)
        {
            IsolationSpec i = app.Isolation;
            if ((i.Uid is not null || i.Gid is not null || i.Groups is not null) && host.DaemonUid != 0)
                problems.Add(new(app.Name, "user", $"the daemon runs as uid {host.DaemonUid}; only root can run an app as another user"));
            if (i.ForSpawn() is { ChangesCredentials: true } && host.Setpriv is null)
                problems.Add(new(app.Name, "user", "setpriv (util-linux) is not installed; it switches user, groups and capabilities"));
            if (i.Limits.Count > 0 && host.Prlimit is null)
                problems.Add(new(app.Name, "limits", "prlimit (util-linux) is not installed; it sets the resource limits"));
            foreach (string controller in i.Resources.Controllers())
            {
                if (host.Cgroups.CanLimit(controller)) continue;
                string why = host.Cgroups.Mode == CgroupMode.None ? "the daemon has no cgroups" : $"the {controller} controller is not available to Tend";
                problems.Add(new(app.Name, "resources", $"{why}: {string.Join("; ", host.Cgroups.Notes)}"));
            }
        }
        return problems;
    }

    /// <summary>
    /// Descriptors the fleet keeps open in the daemon: per instance its two output pipes and its
    /// pidfd, plus a notify socket when it uses one; per app its listening sockets; and the daemon's own.
    /// </summary>
    public static int FdsNeeded(IEnumerable<AppSpec> apps) =>
        BaseFds + apps.Sum(a => a.Instances * (3 + (a.UsesNotify ? 1 : 0)) + a.Listen.Count);
}
