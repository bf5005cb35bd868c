using System.Globalization;
using System.Text;
using Tend.Api;

namespace Tend.Cli.Rendering;

/// <summary>
/// `tend describe` for humans: the app's resolved spec, then one section per instance with the
/// why behind its state (reasons, last exit, recent exits). Only environment variables that differ
/// from the caller's shell are listed — the rest is inherited noise (PM2 does the same).
/// </summary>
internal static class DescribeText
{
    private const int KeyWidth = 16;
    private static readonly CultureInfo s_inv = CultureInfo.InvariantCulture;

    public static string Render(AppInfo app, IReadOnlyDictionary<string, string> callerEnv, TimeZoneInfo zone, bool color)
    {
        var text = new StringBuilder();
        Heading(text, app.Name, color);
        Pair(text, "command", Format.CommandLine(app.Command, app.Args));
        Pair(text, "cwd", app.Cwd);
        Pair(text, "config", app.ConfigPath ?? "-");
        if (app.Supervisors is { Count: > 0 } supervisors) Pair(text, "supervisor", string.Join(" › ", supervisors));
        if (app.DependsOn is { Count: > 0 } dependsOn) Pair(text, "depends on", string.Join(", ", dependsOn));
        Pair(text, "instances", app.InstancesWanted.ToString(s_inv));
        Pair(text, "restart", app.Restart);
        Pair(text, "max restarts", app.MaxRestarts.ToString(s_inv));
        Pair(text, "min uptime", Format.Duration(app.MinUptimeMs));
        Pair(text, "restart delay", Format.Duration(app.RestartDelayMs));
        if (app.Backoff is { } b)
            Pair(text, "backoff", $"{Format.Duration(b.InitialMs)} × {b.Multiplier.ToString("0.##", System.Globalization.CultureInfo.InvariantCulture)} per restart, at most {Format.Duration(b.MaxMs)}, ± {(b.Jitter * 100).ToString("0", System.Globalization.CultureInfo.InvariantCulture)}%");
        Pair(text, "stop signal", app.StopSignal);
        if (app.ReloadSignal is { } reloadSignal) Pair(text, "reload signal", $"{reloadSignal} (tend reload is in place)");
        Pair(text, "kill timeout", app.KillTimeoutMs < 0 ? "infinity" : Format.Duration(app.KillTimeoutMs));
        Pair(text, "stop exit codes", app.StopExitCodes.Count == 0 ? "-" : string.Join(", ", app.StopExitCodes));
        Pair(text, "max memory", app.MaxMemoryBytes is { } max ? Format.Memory(max) : "-");
        if (app.Isolation is { } iso)
        {
            if (iso.User is not null || iso.Gid is not null)
            {
                string who = iso.User is { } user ? $"{user} (uid {iso.Uid})" : "the daemon's user";
                if (iso.Gid is uint gid) who += $", gid {gid}";
                if (iso.Groups is { } groups) who += groups.Count == 0 ? ", no supplementary groups" : $", groups {string.Join(",", groups)}";
                Pair(text, "user", who);
            }
            if (iso.Umask is { } umask) Pair(text, "umask", umask);
            if (iso.Limits is { Count: > 0 } limits) Pair(text, "limits", string.Join(", ", limits));
            if (iso.NoNewPrivs) Pair(text, "no_new_privs", "yes");
            if (iso.Capabilities is { } caps) Pair(text, "capabilities", caps.Count == 0 ? "none" : string.Join(", ", caps));
            if (iso.Resources is { Count: > 0 } resources) Pair(text, "resources", string.Join(", ", resources));
            Pair(text, "containment", iso.Containment);
            if (iso.Cgroup is { } cgroup) Pair(text, "cgroup", cgroup);
        }
        Pair(text, "ready", app.Ready is { } ready
            ? ready + (app.ReadyTimeoutMs is long t ? ", ready_timeout " + (t < 0 ? "infinity" : Format.Duration(t)) : "")
            : "on spawn");
        if (app.Live is { } live) Pair(text, "live", live);
        if (app.WatchdogMs is long watchdog) Pair(text, "watchdog", Format.Duration(watchdog));
        if (app.Critical) Pair(text, "critical", "yes (its outage makes /health answer 503)");
        if (app.Listen is { Count: > 0 } listen) Pair(text, "listen", $"{string.Join(", ", listen)} ({app.ListenMode})");
        if (app.Job is { } job)
        {
            Pair(text, "schedule", job.Cron + (job.TimeZone is { } tz ? $" in {tz}" : "") + $", concurrency {job.Concurrency}" + (job.CatchUp ? ", catch_up" : ""));
            Pair(text, "  next run", job.NextRun is { } next ? TimeZoneInfo.ConvertTime(next, TimeZoneInfo.Local).ToString("yyyy-MM-dd HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture) : "none");
            foreach (JobRunInfo run in job.Runs.TakeLast(5))
            {
                string when = TimeZoneInfo.ConvertTime(run.StartedAt, TimeZoneInfo.Local).ToString("yyyy-MM-dd HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture);
                Pair(text, $"  run {run.Id}", $"{when} {run.Trigger}: {run.Outcome}" + (run.DurationMs is long ms ? $" in {Format.Duration(ms)}" : "") + (run.Detail is { } d ? $" ({d})" : ""));
            }
        }
        if (app.Watch is { } watch)
        {
            Pair(text, "watch", $"{string.Join(", ", watch.Paths)}: {watch.Action} {Format.Duration(watch.DebounceMs)} after the last change");
            if (watch.Include.Count > 0) Pair(text, "  include", string.Join(", ", watch.Include));
            if (watch.Ignore.Count > 0) Pair(text, "  ignore", string.Join(", ", watch.Ignore));
            Pair(text, "  watching", watch.Mode ?? "starting");
        }

        var differing = app.Env
            .Where(kv => !callerEnv.TryGetValue(kv.Key, out string? mine) || mine != kv.Value)
            .OrderBy(kv => kv.Key, StringComparer.Ordinal)
            .ToList();
        Pair(text, "env", $"{app.Env.Count} variables, {differing.Count} differ from this shell");
        foreach (var (key, value) in differing) text.Append("    ").Append(key).Append('=').Append(value).Append('\n');

        foreach (InstanceDetail instance in app.Instances)
        {
            text.Append('\n');
            Instance(text, instance, zone, color);
        }
        if (app.Instances.Count == 0) text.Append("\nno instances\n");
        return text.ToString();
    }

    private static void Instance(StringBuilder text, InstanceDetail i, TimeZoneInfo zone, bool color)
    {
        Heading(text, $"{Format.InstanceName(i.Name, i.Instance)} (id {i.Id.ToString(s_inv)})", color);
        string status = i.Status == "online" ? $"{i.Status}, {(i.Ready ? "ready" : "not ready")}" : i.Status;
        Pair(text, "status", Ansi.Paint(status, Ansi.ForStatus(i.Status), color));
        Pair(text, "pid", i.Pid?.ToString(s_inv) ?? "-");
        Pair(text, "uptime", i.Pid is null ? "-" : Format.Uptime(i.UptimeMs));
        Pair(text, "cpu", Format.Cpu(i.CpuPercent));
        Pair(text, "memory", Format.Memory(i.MemoryBytes));
        Pair(text, "restarts", i.Restarts.ToString(s_inv));
        Pair(text, "unstable", i.UnstableRestarts.ToString(s_inv));
        Pair(text, "last exit", Exit(i.ExitCode, i.ExitSignal));
        if (i.StatusText is { } note) Pair(text, "status text", Format.Printable(note));
        Pair(text, "status reason", i.StatusReason ?? "-");
        Pair(text, "restart reason", i.LastRestartReason ?? "-");
        Pair(text, "started at", i.StartedAt is { } started ? Format.Timestamp(started, zone) : "-");
        if (i.DaemonRestart is { } carried) Pair(text, "daemon restart", carried);
        Pair(text, "out log", i.OutLog);
        Pair(text, "err log", i.ErrLog);
        Pair(text, "dropped lines", i.DroppedLines.ToString(s_inv));
        if (i.Notify is { } notify)
        {
            Pair(text, "notify socket", notify.Socket);
            Pair(text, "notify", $"{notify.Accepted.ToString(s_inv)} accepted, {notify.Malformed.ToString(s_inv)} malformed, {notify.Foreign.ToString(s_inv)} from other processes (ignored)");
            if (notify.LastWatchdogAt is { } ping) Pair(text, "last watchdog", Format.Timestamp(ping, zone));
        }
        if (i.Dotnet is { } dotnet) Dotnet(text, dotnet, zone);
        if (i.Probes is { Count: > 0 } probes)
        {
            text.Append("  probes\n");
            string[] probeHeaders = ["role", "check", "state", "last", "latency", "checks", "failures", "detail"];
            List<string[]> probeRows = probes.Select(p => new[]
            {
                p.Role,
                p.Check,
                p.Passing ? "passing" : "failing",
                p.LastAt is { } at ? Format.Timestamp(at, zone) : "-",
                p.LastLatencyMs is double ms ? ms.ToString("0.0", s_inv) + " ms" : "-",
                p.Checks.ToString(s_inv),
                p.Failures.ToString(s_inv),
                p.LastDetail ?? "-",
            }).ToList();
            int[] probeWidths = probeHeaders.Select((h, c) => Math.Max(h.Length, probeRows.Max(r => r[c].Length))).ToArray();
            Columns(text, probeHeaders, probeWidths);
            foreach (string[] row in probeRows) Columns(text, row, probeWidths);
            foreach (ProbeInfo p in probes)
            {
                if (p.Recent is { Count: > 0 } recent) Recent(text, p.Role.PadRight(probeWidths[0] + 2), recent, zone, color);
            }
        }

        if (i.RecentExits.Count == 0)
        {
            Pair(text, "recent exits", "none");
            return;
        }
        text.Append("  recent exits\n");
        string[] headers = ["time", "pid", "exit", "uptime", "reason"];
        List<string[]> rows = i.RecentExits.Select(e => new[]
        {
            Format.Timestamp(e.Time, zone),
            e.Pid.ToString(s_inv),
            Exit(e.ExitCode, e.ExitSignal),
            Format.Uptime(e.UptimeMs),
            e.Reason,
        }).ToList();
        int[] widths = headers.Select((h, c) => Math.Max(h.Length, rows.Max(r => r[c].Length))).ToArray();
        Columns(text, headers, widths);
        foreach (string[] row in rows) Columns(text, row, widths);
    }

    /// <summary>
    /// "ready  recent: ✓✓✗✓ (last 4, 1 failed; newest failure 2025-03-04 05:06:08 HTTP 503)", newest
    /// mark on the right. No ASCII fallback: the renderer already writes UTF-8 ("›", "—") everywhere.
    /// </summary>
    private static void Recent(StringBuilder text, string role, IReadOnlyList<ProbeCheck> recent, TimeZoneInfo zone, bool color)
    {
        text.Append("    ").Append(role).Append("recent: ");
        int failed = 0;
        ProbeCheck? newestFailure = null;
        for (int start = 0; start < recent.Count;)
        {
            // One colour escape per run of equal marks, not per mark.
            bool success = recent[start].Success;
            int end = start;
            while (end < recent.Count && recent[end].Success == success) end++;
            text.Append(Ansi.Paint(new string(success ? '✓' : '✗', end - start), success ? Ansi.Green : Ansi.Red, color));
            if (!success)
            {
                failed += end - start;
                newestFailure = recent[end - 1];
            }
            start = end;
        }
        text.Append(" (last ").Append(recent.Count.ToString(s_inv)).Append(", ").Append(failed.ToString(s_inv)).Append(" failed");
        if (newestFailure is { } f)
        {
            text.Append("; newest failure ").Append(Format.Timestamp(f.At, zone));
            if (f.Detail is { } detail) text.Append(' ').Append(detail);
        }
        text.Append(")\n");
    }

    private static void Dotnet(StringBuilder text, DotnetCountersInfo d, TimeZoneInfo zone)
    {
        text.Append("  .NET runtime (sampled ").Append(Format.Timestamp(d.SampledAt, zone)).Append(")\n");
        Pair(text, "  gc heap", Format.Memory(d.GcHeapBytes));
        Pair(text, "  collections", $"gen0 {d.Gen0Collections.ToString(s_inv)}, gen1 {d.Gen1Collections.ToString(s_inv)}, gen2 {d.Gen2Collections.ToString(s_inv)}");
        Pair(text, "  allocations", $"{Format.Memory((long)d.AllocationRateBytesPerSecond)}/s, {Format.Memory(d.AllocatedBytes)} in all");
        Pair(text, "  time in gc", d.TimeInGcPercent.ToString("0.##", s_inv) + " %");
        Pair(text, "  thread pool", $"{d.ThreadPoolThreads.ToString(s_inv)} threads, {d.ThreadPoolQueueLength.ToString(s_inv)} queued");
        Pair(text, "  contentions", d.LockContentions.ToString(s_inv));
        Pair(text, "  exceptions", d.Exceptions.ToString(s_inv));
        Pair(text, "  working set", Format.Memory(d.WorkingSetBytes));
    }

    private static string Exit(int? code, string? signal) => (code, signal) switch
    {
        (_, { } sig) => sig,
        ({ } c, null) => "code " + c.ToString(s_inv),
        _ => "-",
    };

    private static void Heading(StringBuilder text, string title, bool color) =>
        text.Append(Ansi.Paint(title, Ansi.Bold, color)).Append('\n');

    private static void Pair(StringBuilder text, string key, string value) =>
        text.Append("  ").Append(key.PadRight(KeyWidth)).Append(value).Append('\n');

    private static void Columns(StringBuilder text, string[] cells, int[] widths)
    {
        text.Append("    ");
        for (int c = 0; c < cells.Length; c++)
        {
            text.Append(c == cells.Length - 1 ? cells[c] : cells[c].PadRight(widths[c] + 2));
        }
        text.Append('\n');
    }
}
