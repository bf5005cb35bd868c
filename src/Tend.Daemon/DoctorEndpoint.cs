using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Tend.Api;
using Tend.Diagnostics;
using Tend.Isolation;
using Tend.Supervision;

namespace Tend.Daemon;

/// <summary>What the daemon found out about its host at start: the cgroup tree it opened and whether it became a subreaper.</summary>
internal sealed record DaemonHost(CgroupTree Cgroups, bool Subreaper);

/// <summary>GET /v1/doctor: the host's and this daemon's facts, with the apps' settings that cannot be enforced.</summary>
internal static class DoctorEndpoint
{
    public static void MapDoctor(this WebApplication app) =>
        app.MapGet(ApiRoutes.Doctor, (Supervisor s, DaemonHost host, HealthAddress health, TcpAccess access) =>
            Results.Json(Report(s, host, health, access), TendJsonContext.Default.DoctorReport));

    internal static DoctorReport Report(Supervisor supervisor, DaemonHost host, HealthAddress health, TcpAccess access)
    {
        var facts = new HostFacts(host.Cgroups, host.Subreaper, HostSupport.HasPidFd(), Tend.Identity.ProcessIdentity.EffectiveUserId,
            HostSupport.FindTool("setpriv"), HostSupport.FindTool("prlimit"), Processes.FdBudget.Limit(), Processes.FdBudget.InUse());
        var specs = supervisor.Apps.Select(a => a.Spec).ToList();
        IReadOnlyList<AppProblem> problems = Doctor.Problems(specs, facts);
        int needed = Doctor.FdsNeeded(specs);
        CgroupTree cg = host.Cgroups;
        bool cgroupKill = cg.MembershipDirectory is { } dir && cg.Mode is CgroupMode.Unified or CgroupMode.Hybrid && File.Exists(Path.Join(dir, "cgroup.kill"))
            || cg.Mode == CgroupMode.Legacy;
        bool canSwitch = facts.DaemonUid == 0 && facts.Setpriv is not null;

        var checks = new List<DoctorCheck>
        {
            cg.Mode == CgroupMode.None
                ? new("cgroups", facts.Subreaper ? "warn" : "fail", "none: " + string.Join("; ", cg.Notes) + (facts.Subreaper ? "" : "; and the daemon is not a subreaper, so an escaped process can outlive its app"))
                : new("cgroups", "ok", $"{Mode(cg.Mode)}: a cgroup per instance under {cg.MembershipDirectory}" +
                    (cgroupKill ? "" : " (no cgroup.kill: freeze, then kill)")),
            new("cgroup limits", cg.Controllers.Count == 3 ? "ok" : "warn", cg.Controllers.Count == 0 ? "no controller: resources: cannot be enforced"
                : string.Join(", ", cg.Controllers.OrderBy(c => c.Key, StringComparer.Ordinal)
                    .Select(c => $"{c.Key} ({(c.Value == cg.MembershipDirectory && cg.Mode != CgroupMode.Legacy ? "v2" : "v1")})"))
                  + (cg.Controllers.Count < 3 ? "; missing: " + string.Join(", ", new[] { "memory", "pids", "cpu" }.Except(cg.Controllers.Keys)) : "")),
            new("subreaper", facts.Subreaper ? "ok" : "warn", facts.Subreaper ? "orphans of apps are re-parented to the daemon and reaped there" : "not a subreaper: orphans go to init"),
            new("pidfd", facts.PidFd ? "ok" : "fail", facts.PidFd ? "pidfd_open works (processes are held by pidfd)" : "pidfd_open is missing (Linux 5.3+ needed)"),
            new("users", canSwitch ? "ok" : "info", canSwitch ? "running as root with setpriv: apps may set user/group/capabilities"
                : facts.DaemonUid != 0 ? $"running as uid {facts.DaemonUid}: apps run as this user (user: is refused)" : "setpriv is missing: user: cannot be applied"),
            new("open files", facts.FdLimit is long lim && needed > lim - Processes.FdBudget.Reserve ? "fail" : "ok",
                $"{facts.FdsInUse} in use, the fleet needs about {needed}, limit {(facts.FdLimit is long l ? l.ToString(CultureInfo.InvariantCulture) : "unlimited")}"),
            new("health", health.Url is not null ? "ok" : "info", health.Url is { } url ? $"{url} (/health, /metrics, dashboard)" : "off" + (health.Problem is { } p ? $": {p}" : "")),
            new("token", access.HasToken ? "ok" : "info", access.HasToken ? "a bearer token guards the TCP listener (dashboard and API)"
                : "no token: the dashboard and API over TCP answer loopback clients only (TEND_TOKEN_FILE to open them up)"),
        };
        foreach (AppProblem problem in problems) checks.Add(new($"app {problem.App}", "fail", $"{problem.Field}: {problem.Message}"));
        bool ok = problems.Count == 0 && facts.PidFd && !checks.Any(c => c.Status == "fail");

        return new DoctorReport(ok, Mode(cg.Mode), cg.MembershipDirectory, [.. cg.Controllers.Keys.Order(StringComparer.Ordinal)], cgroupKill, cg.Notes,
            facts.Subreaper, facts.PidFd, facts.DaemonUid, canSwitch, facts.FdLimit, facts.FdsInUse, needed, health.Url, health.Problem, access.HasToken,
            [.. problems.Select(p => new DoctorProblem(p.App, p.Field, p.Message))], checks);
    }

    private static string Mode(CgroupMode mode) => mode.ToString().ToLowerInvariant();
}
