using System.Diagnostics;
using Tend.Metrics;
using Tend.Processes;

namespace Tend.Supervision;

/// <summary>
/// Everything Tend knows, as one Prometheus exposition (docs/metrics.md lists the series). It reads
/// what is already there — published instance state, counters kept where events happen, the last
/// resource sample — plus two small /proc reads per live instance (threads, open descriptors), so a
/// scrape never waits behind an instance's command or starts a sampling pass of its own.
/// </summary>
public static class TendMetrics
{
    private static readonly HealthTier[] s_healthStates = [HealthTier.Healthy, HealthTier.Degraded, HealthTier.Critical, HealthTier.Stopped];

    /// <summary>Writes the engine's families; <paramref name="extra"/> adds the host's own (API requests, build info).</summary>
    public static void Collect(Supervisor supervisor, TextWriter output, Action<PrometheusWriter>? extra = null) =>
        Collect(supervisor, new PrometheusWriter(output), extra);

    /// <summary>The same pass into any sink (the OTLP export's <see cref="MetricSnapshot"/>).</summary>
    public static void Collect(Supervisor supervisor, PrometheusWriter w, Action<PrometheusWriter>? extra = null)
    {
        IReadOnlyList<App> apps = supervisor.Apps;
        // One snapshot of every instance, so all families describe the same moment (and the same set).
        var rows = new List<Row>();
        foreach (App app in apps)
        {
            IReadOnlyList<Instance> instances = app.Instances;
            for (int k = 0; k < instances.Count; k++)
            {
                Instance inst = instances[k];
                // During a reload a number has its old and its new instance: the newer one (listed
                // last) owns the series, so no scrape ever holds two samples with the same labels.
                if (k + 1 < instances.Count && instances[k + 1].Number == inst.Number) continue;
                rows.Add(new Row(app.Name, inst.Number.ToString(System.Globalization.CultureInfo.InvariantCulture), inst, inst.Snapshot(), inst.LiveSince, inst.LastExit));
            }
        }

        WriteInstances(w, rows);
        WriteApps(w, supervisor, apps);
        WriteLogs(w, rows);
        WriteProbes(w, rows);
        WriteDotnet(w, rows);
        WriteRollouts(w, apps);
        WriteProcess(w);
        extra?.Invoke(w);
    }

    private readonly record struct Row(string App, string Number, Instance Instance, InstanceSnapshot Info, DateTimeOffset? Since, ExitStatus? LastExit);

    private static bool Waiting(InstanceSnapshot s, string why) =>
        s.Status == InstanceStatus.Waiting && s.StatusReason?.StartsWith(why, StringComparison.Ordinal) == true;

    private static void WriteInstances(PrometheusWriter w, List<Row> rows)
    {
        w.Family("tend_instance_up", MetricType.Gauge, "1 when the instance has a live process, else 0.");
        foreach (Row r in rows) w.Sample(r.Info.Pid is null ? 0 : 1, ("app", r.App), ("instance_number", r.Number));

        w.Family("tend_instance_ready", MetricType.Gauge, "1 when the instance is ready (ready: probe or READY=1; spawned, for an app without ready:), else 0.");
        foreach (Row r in rows) w.Sample(r.Info.Ready ? 1 : 0, ("app", r.App), ("instance_number", r.Number));

        // Self-healing (docs/alerts.md#self-healing): why a waiting instance is not being restarted.
        w.Family("tend_instance_breaker_open", MetricType.Gauge, "1 while the instance's breaker is open (no restart until its half-open attempt), else 0.");
        foreach (Row r in rows) w.Sample(Waiting(r.Info, "breaker open") ? 1 : 0, ("app", r.App), ("instance_number", r.Number));

        w.Family("tend_instance_held", MetricType.Gauge, "1 while the instance is held for a dependency that is down (while_down), else 0.");
        foreach (Row r in rows) w.Sample(Waiting(r.Info, "held:") ? 1 : 0, ("app", r.App), ("instance_number", r.Number));

        w.Family("tend_instance_restarts_total", MetricType.Counter, "Restarts of the instance, by cause.");
        var restarts = new List<KeyValuePair<string, long>>();
        foreach (Row r in rows)
        {
            restarts.Clear();
            r.Instance.Metrics.CopyRestarts(restarts);
            foreach (var (cause, count) in restarts) w.Sample(count, ("app", r.App), ("instance_number", r.Number), ("reason", cause));
        }

        w.Family("tend_instance_cpu_seconds_total", MetricType.Counter, "User and system CPU time of the instance's process group, over all its runs (sampled once a second).");
        double tick = ProcStat.ClockTicksPerSecond;
        foreach (Row r in rows) w.Sample(r.Instance.Metrics.CpuTicks / tick, ("app", r.App), ("instance_number", r.Number));

        w.Family("tend_instance_resident_memory_bytes", MetricType.Gauge, "Resident memory of the instance's process group (last sample; 0 when not running).");
        foreach (Row r in rows) w.Sample(r.Info.MemoryBytes, ("app", r.App), ("instance_number", r.Number));

        w.Family("tend_instance_open_fds", MetricType.Gauge, "Open file descriptors of the instance's main process.");
        foreach (Row r in rows)
            if (r.Info.Pid is int pid && ProcStat.CountOpenFds(pid) is long fds) w.Sample(fds, ("app", r.App), ("instance_number", r.Number));

        w.Family("tend_instance_threads", MetricType.Gauge, "Threads of the instance's main process.");
        foreach (Row r in rows)
            if (r.Info.Pid is int pid && ProcStat.ReadThreads(pid) is long threads) w.Sample(threads, ("app", r.App), ("instance_number", r.Number));

        w.Family("tend_instance_start_time_seconds", MetricType.Gauge, "When the instance's live process was spawned, in seconds since the Unix epoch.");
        foreach (Row r in rows)
            if (r.Since is DateTimeOffset since) w.Sample(since.ToUnixTimeMilliseconds() / 1000.0, ("app", r.App), ("instance_number", r.Number));

        w.Family("tend_instance_last_exit_code", MetricType.Gauge, "Exit code of the instance's last run (absent before the first exit or when a signal ended it).");
        foreach (Row r in rows)
            if (r.LastExit?.Code is int code) w.Sample(code, ("app", r.App), ("instance_number", r.Number));

        w.Family("tend_instance_last_exit_signal", MetricType.Gauge, "Number of the signal that ended the instance's last run (absent when it exited with a code).");
        foreach (Row r in rows)
            if (r.LastExit is { Code: null, Signal: int signal }) w.Sample(signal, ("app", r.App), ("instance_number", r.Number));
    }

    private static void WriteApps(PrometheusWriter w, Supervisor supervisor, IReadOnlyList<App> apps)
    {
        w.Family("tend_app_instances_desired", MetricType.Gauge, "Instances the app is configured to run.");
        foreach (App app in apps) w.Sample(app.Spec.Instances, ("app", app.Name));

        w.Family("tend_app_instances_running", MetricType.Gauge, "Instances of the app with a live process.");
        foreach (App app in apps)
        {
            int running = 0;
            foreach (Instance i in app.Instances) if (i.LiveProcess is not null) running++;
            w.Sample(running, ("app", app.Name));
        }

        w.Family("tend_app_health", MetricType.Gauge, "The app's health tier as a state set: 1 for the current state (healthy, degraded, critical, stopped), 0 for the others.");
        foreach (AppHealthState health in supervisor.AppsHealth())
            foreach (HealthTier state in s_healthStates)
                w.Sample(health.Tier == state ? 1 : 0, ("app", health.Name), ("state", state.ToWire()));
    }

    private static void WriteLogs(PrometheusWriter w, List<Row> rows)
    {
        w.Family("tend_log_lines_total", MetricType.Counter, "Lines the instance wrote to the stream, over all its runs.");
        foreach (Row r in rows)
        {
            w.Sample(r.Instance.Metrics.Out.Lines, ("app", r.App), ("instance_number", r.Number), ("stream", "stdout"));
            w.Sample(r.Instance.Metrics.Err.Lines, ("app", r.App), ("instance_number", r.Number), ("stream", "stderr"));
        }
        w.Family("tend_log_bytes_total", MetricType.Counter, "Bytes the instance wrote to the stream, over all its runs.");
        foreach (Row r in rows)
        {
            w.Sample(r.Instance.Metrics.Out.Bytes, ("app", r.App), ("instance_number", r.Number), ("stream", "stdout"));
            w.Sample(r.Instance.Metrics.Err.Bytes, ("app", r.App), ("instance_number", r.Number), ("stream", "stderr"));
        }
        w.Family("tend_log_dropped_lines_total", MetricType.Counter, "Lines that could not be written to the log file, over all the instance's runs.");
        foreach (Row r in rows)
        {
            w.Sample(r.Instance.Metrics.Out.Dropped, ("app", r.App), ("instance_number", r.Number), ("stream", "stdout"));
            w.Sample(r.Instance.Metrics.Err.Dropped, ("app", r.App), ("instance_number", r.Number), ("stream", "stderr"));
        }
    }

    private static void WriteProbes(PrometheusWriter w, List<Row> rows)
    {
        w.Family("tend_probe_duration_seconds", MetricType.Histogram, "How long readiness and liveness checks took.");
        Span<long> counts = stackalloc long[Histogram.DefaultBounds.Length + 1];
        foreach (Row r in rows)
        {
            if (r.Instance.Spec.Ready?.Probe is not null) WriteHistogram(w, r.Instance.Metrics.Ready.Duration, counts, r, "ready");
            if (r.Instance.Spec.Live is not null) WriteHistogram(w, r.Instance.Metrics.Live.Duration, counts, r, "live");
        }
        w.Family("tend_probe_failures_total", MetricType.Counter, "Readiness and liveness checks that failed.");
        foreach (Row r in rows)
        {
            if (r.Instance.Spec.Ready?.Probe is not null) w.Sample(r.Instance.Metrics.Ready.Failures, ("app", r.App), ("instance_number", r.Number), ("role", "ready"));
            if (r.Instance.Spec.Live is not null) w.Sample(r.Instance.Metrics.Live.Failures, ("app", r.App), ("instance_number", r.Number), ("role", "live"));
        }
    }

    private static void WriteHistogram(PrometheusWriter w, Histogram h, Span<long> counts, Row r, string role)
    {
        double sum = h.CopyTo(counts);
        w.Histogram(h.Bounds, counts, sum, ("app", r.App), ("instance_number", r.Number), ("role", role));
    }

    /// <summary>.NET runtime counters: only instances with a live sample (a .NET process being watched) have these series.</summary>
    private static void WriteDotnet(PrometheusWriter w, List<Row> rows)
    {
        var live = new List<(Row Row, Runtime.DotnetCounters C)>();
        foreach (Row r in rows)
            if (r.Info.Pid is not null && r.Instance.DotnetCounters is { } c) live.Add((r, c));

        w.Family("tend_dotnet_gc_heap_bytes", MetricType.Gauge, ".NET: bytes thought to be allocated on the GC heap (gc-heap-size).");
        foreach (var (r, c) in live) w.Sample(c.GcHeapBytes, ("app", r.App), ("instance_number", r.Number));

        w.Family("tend_dotnet_gc_collections_total", MetricType.Counter, ".NET: garbage collections by generation (gen0, gen1, gen2), since Tend began watching the run.");
        foreach (var (r, c) in live)
        {
            w.Sample(c.Gen0Collections, ("app", r.App), ("instance_number", r.Number), ("generation", "gen0"));
            w.Sample(c.Gen1Collections, ("app", r.App), ("instance_number", r.Number), ("generation", "gen1"));
            w.Sample(c.Gen2Collections, ("app", r.App), ("instance_number", r.Number), ("generation", "gen2"));
        }

        w.Family("tend_dotnet_gc_allocated_bytes_total", MetricType.Counter, ".NET: bytes allocated on the GC heap since Tend began watching the run; rate() of it is the allocation rate.");
        foreach (var (r, c) in live) w.Sample(c.AllocatedBytes, ("app", r.App), ("instance_number", r.Number));

        w.Family("tend_dotnet_gc_pause_time_ratio", MetricType.Gauge, ".NET: share of time spent in GC, 0 to 1, as of the last GC (time-in-gc).");
        foreach (var (r, c) in live) w.Sample(c.TimeInGcPercent / 100, ("app", r.App), ("instance_number", r.Number));

        w.Family("tend_dotnet_threadpool_threads", MetricType.Gauge, ".NET: thread-pool threads.");
        foreach (var (r, c) in live) w.Sample(c.ThreadPoolThreads, ("app", r.App), ("instance_number", r.Number));

        w.Family("tend_dotnet_threadpool_queue_length", MetricType.Gauge, ".NET: work items queued to the thread pool, not yet started.");
        foreach (var (r, c) in live) w.Sample(c.ThreadPoolQueueLength, ("app", r.App), ("instance_number", r.Number));

        w.Family("tend_dotnet_lock_contentions_total", MetricType.Counter, ".NET: times a thread had to wait for a Monitor lock, since Tend began watching the run.");
        foreach (var (r, c) in live) w.Sample(c.LockContentions, ("app", r.App), ("instance_number", r.Number));

        w.Family("tend_dotnet_exceptions_total", MetricType.Counter, ".NET: exceptions thrown, since Tend began watching the run.");
        foreach (var (r, c) in live) w.Sample(c.Exceptions, ("app", r.App), ("instance_number", r.Number));

        w.Family("tend_dotnet_working_set_bytes", MetricType.Gauge, ".NET: the process's working set, as the runtime reports it.");
        foreach (var (r, c) in live) w.Sample(c.WorkingSetBytes, ("app", r.App), ("instance_number", r.Number));

        w.Family("tend_dotnet_last_sample_time_seconds", MetricType.Gauge, ".NET: when the runtime last reported its counters, in seconds since the Unix epoch.");
        foreach (var (r, c) in live) w.Sample(c.SampledAt.ToUnixTimeMilliseconds() / 1000.0, ("app", r.App), ("instance_number", r.Number));
    }

    private static void WriteRollouts(PrometheusWriter w, IReadOnlyList<App> apps)
    {
        var rollouts = new List<KeyValuePair<(string Kind, string Strategy, string Result), long>>();
        w.Family("tend_reloads_total", MetricType.Counter, "Rolling reloads of the app, by result (success, failure, refused).");
        foreach (App app in apps)
        {
            rollouts.Clear();
            app.Metrics.CopyRollouts(rollouts);
            foreach (var (key, count) in rollouts)
                if (key.Kind == "reload") w.Sample(count, ("app", app.Name), ("result", key.Result));
        }
        w.Family("tend_deploys_total", MetricType.Counter, "Blue-green and canary deploys of the app, by strategy and result (success, failure, refused).");
        foreach (App app in apps)
        {
            rollouts.Clear();
            app.Metrics.CopyRollouts(rollouts);
            foreach (var (key, count) in rollouts)
                if (key.Kind == "deploy") w.Sample(count, ("app", app.Name), ("strategy", key.Strategy), ("result", key.Result));
        }
        w.Family("tend_proxy_connections_total", MetricType.Counter, "Connections the app's proxy (listen_mode: proxy) forwarded to an instance or closed for want of a ready one.");
        foreach (App app in apps)
        {
            if (app.Listeners?.ProxyCounts is not var (forwarded, failed)) continue;
            w.Sample(forwarded, ("app", app.Name), ("result", "forwarded"));
            w.Sample(failed, ("app", app.Name), ("result", "failed"));
        }
    }

    private static readonly Lazy<double> s_startTime = new(() =>
    {
        using var self = Process.GetCurrentProcess();
        return new DateTimeOffset(self.StartTime.ToUniversalTime()).ToUnixTimeMilliseconds() / 1000.0;
    });

    /// <summary>The standard process_* families for the process writing them (the daemon).</summary>
    public static void WriteProcess(PrometheusWriter w)
    {
        using var self = Process.GetCurrentProcess();
        w.Family("process_cpu_seconds_total", MetricType.Counter, "Total user and system CPU time spent in seconds.");
        w.Sample(self.TotalProcessorTime.TotalSeconds);
        w.Family("process_resident_memory_bytes", MetricType.Gauge, "Resident memory size in bytes.");
        w.Sample(self.WorkingSet64);
        w.Family("process_start_time_seconds", MetricType.Gauge, "Start time of the process since unix epoch in seconds.");
        w.Sample(s_startTime.Value);
        if (ProcStat.CountOpenFds(Environment.ProcessId) is long fds)
        {
            w.Family("process_open_fds", MetricType.Gauge, "Number of open file descriptors.");
            w.Sample(fds);
        }
    }
}
