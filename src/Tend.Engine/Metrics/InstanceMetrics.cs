using Tend.Health;

namespace Tend.Metrics;

/// <summary>
/// The counters of one instance that outlive a run: restarts by cause, log lines and bytes, probe
/// latencies and failures, CPU time. Everything here is only ever added to, from whichever thread
/// sees the event, and read by a scrape without waiting on the instance's own lock.
/// </summary>
public sealed class InstanceMetrics
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, long> _restarts = new(StringComparer.Ordinal);
    private long _cpuTicksBefore;  // ticks of the process groups of finished runs
    private int _cpuPid;
    private long _cpuTicksNow;     // the highest sample of the current run's group

    public LogCounters Out { get; } = new();
    public LogCounters Err { get; } = new();
    public ProbeMetrics Ready { get; } = new();
    public ProbeMetrics Live { get; } = new();

    /// <summary>Counts one restart, by the class of <paramref name="reason"/> (see <see cref="RestartCause"/>).</summary>
    public void CountRestart(string reason)
    {
        string cause = RestartCause.Of(reason);
        lock (_gate) _restarts[cause] = _restarts.GetValueOrDefault(cause) + 1;
    }

    /// <summary>Restart counts by cause, appended to <paramref name="into"/>.</summary>
    public void CopyRestarts(List<KeyValuePair<string, long>> into)
    {
        lock (_gate) into.AddRange(_restarts);
    }

    /// <summary>
    /// A sample of the process group's user+system ticks. The group's sum drops when a member
    /// exits (its time leaves with it), so the counter keeps the highest value seen per run; a new
    /// pid starts a new run. The time of the last second of a run and of short-lived members that
    /// came and went between samples is not counted.
    /// </summary>
    public void OnCpuTicks(int pid, long ticks)
    {
        lock (_gate)
        {
            if (pid != _cpuPid)
            {
                _cpuTicksBefore += _cpuTicksNow;
                _cpuTicksNow = 0;
                _cpuPid = pid;
            }
            if (ticks > _cpuTicksNow) _cpuTicksNow = ticks;
        }
    }

    public long CpuTicks { get { lock (_gate) return _cpuTicksBefore + _cpuTicksNow; } }
}

/// <summary>Lines, bytes and dropped lines of one output stream of an instance, across its runs.</summary>
public sealed class LogCounters
{
    private long _lines;
    private long _bytes;
    private long _dropped;

    public long Lines => Interlocked.Read(ref _lines);
    public long Bytes => Interlocked.Read(ref _bytes);
    public long Dropped => Interlocked.Read(ref _dropped);

    public void AddRead(long lines, long bytes)
    {
        Interlocked.Add(ref _lines, lines);
        Interlocked.Add(ref _bytes, bytes);
    }

    public void AddDropped(long lines) => Interlocked.Add(ref _dropped, lines);
}

/// <summary>One probe role's latency histogram and failure count, across runs.</summary>
public sealed class ProbeMetrics
{
    private long _failures;
    private long _lastTicks = -1;

    public Histogram Duration { get; } = new();
    public long Failures => Interlocked.Read(ref _failures);

    /// <summary>The latest check's latency; null before the first (what a probe_latency alert reads).</summary>
    public TimeSpan? Last => Interlocked.Read(ref _lastTicks) is long t and >= 0 ? TimeSpan.FromTicks(t) : null;

    public void Observe(ProbeResult result)
    {
        Duration.Observe(result.Latency.TotalSeconds);
        Interlocked.Exchange(ref _lastTicks, result.Latency.Ticks);
        if (!result.Success) Interlocked.Increment(ref _failures);
    }
}

/// <summary>
/// The cause label of tend_instance_restarts_total, from the reason an instance records for a
/// restart: the prefix health failures and limits write ("liveness: …", "max_memory: …"), the
/// fixed reasons of commands ("restart requested", "reload"), and an exit status for the rest —
/// "exit" for code 0, "crash" otherwise.
/// </summary>
public static class RestartCause
{
    public static string Of(string reason)
    {
        int colon = reason.IndexOf(':');
        if (colon > 0)
        {
            switch (reason.AsSpan(0, colon))
            {
                case "liveness": return "liveness";
                case "watchdog": return "watchdog";
                case "ready_timeout": return "ready_timeout";
                case "max_memory": return "max_memory";
                case "oom": return "oom";
            }
        }
        return reason switch
        {
            "restart requested" => "manual",
            "reload" => "reload",
            "exit code 0" => "exit",
            _ when reason.StartsWith("exit code ", StringComparison.Ordinal) || reason.StartsWith("killed by ", StringComparison.Ordinal)
                || reason.StartsWith("exited", StringComparison.Ordinal) => "crash",
            _ => "other",
        };
    }
}

/// <summary>An app's rollout counters: reloads by result, deploys by strategy and result.</summary>
public sealed class AppMetrics
{
    private readonly Lock _gate = new();
    private readonly Dictionary<(string Kind, string Strategy, string Result), long> _rollouts = [];

    public void CountRollout(string kind, string strategy, string result)
    {
        lock (_gate) _rollouts[(kind, strategy, result)] = _rollouts.GetValueOrDefault((kind, strategy, result)) + 1;
    }

    public void CopyRollouts(List<KeyValuePair<(string Kind, string Strategy, string Result), long>> into)
    {
        lock (_gate) into.AddRange(_rollouts);
    }
}
