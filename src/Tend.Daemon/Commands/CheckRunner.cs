using System.Globalization;
using Tend.Api;
using Tend.Config;

namespace Tend.Daemon.Commands;

/// <summary>
/// `tend check [FILE…]`: each config loaded exactly as `tend start` would load it, and nothing started,
/// written or asked of a daemon (as `nginx -t` or `systemd-analyze verify`, for CI and before a deploy).
/// What a file declares goes to stdout, one line per file; its errors, with their lines, to stderr.
/// Exit 2 when any file is invalid. Whether this host can enforce `resources:` is not judged here (no
/// cgroup is touched): `tend doctor` says, and the start refuses what it cannot enforce.
/// </summary>
internal static class CheckRunner
{
    public static int Check(CheckInvocation invocation, TextWriter output, TextWriter error)
    {
        if (invocation.Paths.Count == 0) throw new CommandException("tend check: no file to check", 2);
        var env = EngineCommandHost.CallerEnvironment();
        int invalid = 0;
        foreach (string path in invocation.Paths)
        {
            if (Tend.Config.Import.Importers.Detect(path) is string kind)
            {
                invalid++;
                error.WriteLine($"error: {path}: a {kind} config, not a tend.yaml: `tend import {kind} {path}` converts it and says what it could not map (tend start takes it as it is)");
                continue;
            }
            try
            {
                output.WriteLine($"{path}: ok: {Summary(ConfigLoader.Load(path, env))}");
            }
            catch (ConfigException ex)
            {
                invalid++;
                error.WriteLine($"error: {path}: invalid config");
                foreach (ConfigError e in ex.Errors) error.WriteLine("  " + e);
            }
        }
        return invalid == 0 ? 0 : 2;
    }

    /// <summary>"2 apps (web ×2, worker), 1 job (nightly), 1 supervisor (backend)".</summary>
    internal static string Summary(TendConfig config)
    {
        static string Count(int n, string one) => n.ToString(CultureInfo.InvariantCulture) + " " + one + (n == 1 ? "" : "s");
        AppSpec[] apps = [.. config.Apps.Where(a => a.Job is null)];
        AppSpec[] jobs = [.. config.Apps.Where(a => a.Job is not null)];
        var parts = new List<string>
        {
            $"{Count(apps.Length, "app")}{(apps.Length == 0 ? "" : " (" + string.Join(", ", apps.Select(a => a.Instances == 1 ? a.Name : $"{a.Name} ×{a.Instances.ToString(CultureInfo.InvariantCulture)}")) + ")")}",
        };
        if (jobs.Length > 0) parts.Add($"{Count(jobs.Length, "job")} ({string.Join(", ", jobs.Select(j => j.Name))})");
        if (config.Tree.Supervisors.Count > 0) parts.Add($"{Count(config.Tree.Supervisors.Count, "supervisor")} ({string.Join(", ", config.Tree.Supervisors.Select(s => s.Name))})");
        return string.Join(", ", parts);
    }
}
