using Tend.Processes;

namespace Tend.Supervision;

/// <summary>
/// One pass over the daemon's descendants in /proc (following each process's children, never the
/// whole machine) summing CPU time and resident memory per process group (an instance's group is the
/// instance and everything it forked); each online instance gets its share.
///
/// How often: every second while somebody is looking (a list, describe, monit or the dashboard in the
/// last <see cref="WatchWindow"/>) or while an instance has a max_memory limit, which is enforced from
/// these samples; otherwise every <see cref="IdleInterval"/>. A pass costs two reads per managed
/// process (its cgroup's cpu.stat and memory.stat, or its stat and children files), so with 100 instances sampling every second was most of an idle daemon's CPU, and
/// nobody reads those figures while nobody looks. A reader (<see cref="Refresh"/>) gets the figures
/// of the last pass, at most <see cref="IdleInterval"/> old, and the loop goes to a pass a second at
/// once; it waits for a pass only when there has been none yet, the loop is behind, or a process started since the last pass. With no live instance a tick does nothing. The same pass feeds each
/// app's <see cref="ResourceHistory"/> (the dashboard's charts), so history needs no timer of its own:
/// an idle pass stands for the span since the previous one and fills the history's points in it.
/// </summary>
internal sealed class ResourceSampler : IAsyncDisposable
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);
    /// <summary>
    /// Three history points: a pass then fills the points since the previous one (its CPU figure is
    /// the mean over that span), so the charts have no holes. At 4 s (a pass per point) the passes
    /// were most of a quiet daemon's CPU with 100 instances (bench/notes.md, idle CPU).
    /// </summary>
    public static readonly TimeSpan IdleInterval = TimeSpan.FromSeconds(15);
    public static readonly TimeSpan WatchWindow = TimeSpan.FromSeconds(30);

    private readonly Supervisor _owner;
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _stop = new();
    private readonly Dictionary<int, (long Ticks, long At)> _previous = [];
    private readonly Lock _gate = new();
    private Task _loop = Task.CompletedTask;
    private volatile PeriodicTimer? _timer;
    private long _lastSampleAt;
    private long _lastWatchedAt;
    private bool _sampled;
    private bool _watched;
    private long _passes;
    // The previous pass: when, and which apps had live instances in it (their next point may stand for the span since).
    private DateTimeOffset _lastPassWall;
    private HashSet<App> _lastPassApps = [];
    private HashSet<int> _lastPassPids = [];

    public ResourceSampler(Supervisor owner, TimeProvider time)
    {
        _owner = owner;
        _time = time;
    }

    /// <summary>
    /// The timer is made here, on the caller's thread, not in the loop's task: on a busy machine the
    /// task may start late, and a timer made then would count its first second from then.
    /// </summary>
    public void Start()
    {
        var timer = new PeriodicTimer(Interval, _time);
        _timer = timer;
        _loop = Task.Run(() => LoopAsync(timer));
    }

    /// <summary>
    /// The timer ticks every second while somebody looks or an app needs every second (max_memory,
    /// a metric alert), and every <see cref="IdleInterval"/> otherwise, so a quiet daemon wakes for
    /// the sampler once in fifteen seconds rather than every second (docs/benchmarks.md, idle CPU).
    /// </summary>
    private async Task LoopAsync(PeriodicTimer timer)
    {
        using var owned = timer;
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token).ConfigureAwait(false))
            {
                if (IsDue()) SampleOnce();
                TimeSpan period = NextPeriod();
                if (timer.Period != period) timer.Period = period;
            }
        }
        catch (OperationCanceledException) { }
        catch (ObjectDisposedException) { }
    }

    /// <summary>A second, or what is left of the idle interval since the last pass (whoever made it).</summary>
    private TimeSpan NextPeriod()
    {
        long now = _time.GetTimestamp();
        TimeSpan left;
        lock (_gate)
        {
            if (_watched && _time.GetElapsedTime(_lastWatchedAt, now) < WatchWindow) return Interval;
            left = _sampled ? IdleInterval - _time.GetElapsedTime(_lastSampleAt, now) : Interval;
        }
        if (_owner.SampleEverySecond || _owner.Apps.Any(a => a.Spec.MaxMemoryBytes is not null)) return Interval;
        return left < Interval ? Interval : left;
    }

    /// <summary>A client is about to read the samples: note that somebody is looking, and sample first if there is no pass to show (none yet, or none since an instance now live started).</summary>
    public void Refresh()
    {
        long now = _time.GetTimestamp();
        bool stale;
        lock (_gate)
        {
            _lastWatchedAt = now;
            _watched = true;
            // Only when there is nothing to show, or the loop is behind: a pass over 100 instances costs
            // about 10 ms, which the first list after a quiet spell used to wait for (41 ms against 23 ms
            // warm). Otherwise the figures are at most IdleInterval old and the loop speeds up now.
            // A process started since the last pass (a `tend start` and then a list) would show no
            // figures for up to IdleInterval.
            stale = !_sampled || _time.GetElapsedTime(_lastSampleAt, now) >= IdleInterval + Interval || HasUnsampledProcess();
        }
        SpeedUp();
        if (stale) SampleOnce();
    }

    private bool HasUnsampledProcess()
    {
        foreach (App app in _owner.Apps)
        {
            foreach (Instance inst in app.Instances)
                if (inst.LiveProcess is { Pid: int pid } && !_lastPassPids.Contains(pid)) return true;
        }
        return false;
    }

    /// <summary>Back to a tick a second at once, not at the end of the idle period under way.</summary>
    private void SpeedUp()
    {
        PeriodicTimer? timer = _timer;
        if (timer is null || timer.Period == Interval) return;
        try
        {
            timer.Period = Interval;
        }
        catch (ObjectDisposedException)
        {
        }
    }

    private bool IsDue()
    {
        long now = _time.GetTimestamp();
        lock (_gate)
        {
            if (!_sampled) return true;
            TimeSpan since = _time.GetElapsedTime(_lastSampleAt, now);
            // The timer and the pass both take about a second's worth of ticks: a little slack so a
            // tick that comes a hair early is not skipped.
            if (since >= IdleInterval - TimeSpan.FromMilliseconds(100)) return true;
            if (_watched && _time.GetElapsedTime(_lastWatchedAt, now) < WatchWindow) return true;
        }
        return _owner.SampleEverySecond || _owner.Apps.Any(a => a.Spec.MaxMemoryBytes is not null);
    }

    internal void SampleOnce()
    {
        lock (_gate) SampleLocked();
    }

    /// <summary>Passes over /proc so far (tests read it to see how often the loop samples).</summary>
    internal long Passes { get { lock (_gate) return _passes; } }

    private void SampleLocked()
    {
        _lastSampleAt = _time.GetTimestamp();
        _sampled = true;
        _passes++;
        var live = _owner.Apps.SelectMany(a => a.Instances).Where(i => i.LiveProcess is not null).ToList();
        if (live.Count == 0)
        {
            _previous.Clear();
            _lastPassApps = [];
            _lastPassPids = [];
            _owner.OnSampled(new ResourcePass(_time.GetUtcNow(), []));
            return;
        }
        _lastPassPids = [.. live.Select(i => i.LiveProcess?.Pid ?? 0)];
        var samples = new List<InstanceSample>(live.Count);
        // A cgroup has the exact figures of everything the instance runs (an escaped process
        // too), in two small files; /proc is walked only for instances whose cgroup lacks them
        // (no cgroups, or memory not accounted there) and only once per pass.
        IReadOnlyDictionary<int, GroupUsage>? groups = null;
        long now = _time.GetTimestamp();
        var seen = new HashSet<int>();
        var totals = new Dictionary<App, (double Cpu, long Memory, int Count)>();
        foreach (Instance inst in live)
        {
            if (inst.LiveProcess is not { Pid: int pid }) continue;
            Isolation.InstanceCgroup? cgroup = inst.LiveCgroup;
            TimeSpan? cgroupCpu = cgroup?.CpuTime();
            long? cgroupMemory = cgroup?.ResidentBytes();
            GroupUsage usage;
            if (cgroupCpu is TimeSpan cpuTime && cgroupMemory is long memory)
            {
                usage = new GroupUsage(memory, (long)(cpuTime.TotalSeconds * ProcStat.ClockTicksPerSecond), 0);
            }
            else
            {
                groups ??= ProcStat.SampleGroups();
                if (!groups.TryGetValue(pid, out GroupUsage fromProc)) continue;
                usage = fromProc with
                {
                    CpuTicks = cgroupCpu is TimeSpan c ? (long)(c.TotalSeconds * ProcStat.ClockTicksPerSecond) : fromProc.CpuTicks,
                    RssBytes = cgroupMemory ?? fromProc.RssBytes,
                };
            }
            seen.Add(pid);
            double cpu = 0;
            if (_previous.TryGetValue(pid, out var prev))
            {
                double seconds = _time.GetElapsedTime(prev.At, now).TotalSeconds;
                if (seconds > 0)
                    cpu = Math.Max(0, usage.CpuTicks - prev.Ticks) / (double)ProcStat.ClockTicksPerSecond / seconds * 100;
            }
            _previous[pid] = (usage.CpuTicks, now);
            inst.Metrics.OnCpuTicks(pid, usage.CpuTicks);
            inst.OnSample(cpu, usage.RssBytes);
            samples.Add(new InstanceSample(inst.Name, inst.Number, pid, cpu, usage.RssBytes, inst.DotnetCounters)
            {
                ProbeLatency = Max(inst.Metrics.Ready.Last, inst.Metrics.Live.Last),
            });
            var total = totals.GetValueOrDefault(inst.App);
            totals[inst.App] = (total.Cpu + cpu, total.Memory + usage.RssBytes, total.Count + 1);
        }
        DateTimeOffset wallNow = _time.GetUtcNow();
        foreach (var (app, total) in totals)
            app.History.Add(wallNow, total.Cpu, total.Memory, total.Count, since: _lastPassApps.Contains(app) ? _lastPassWall : null);
        _lastPassApps = [.. totals.Keys];
        _lastPassWall = wallNow;
        foreach (int gone in _previous.Keys.Where(k => !seen.Contains(k)).ToList()) _previous.Remove(gone);
        _owner.OnSampled(new ResourcePass(wallNow, samples));
    }

    private static TimeSpan? Max(TimeSpan? a, TimeSpan? b) => a is null ? b : b is null ? a : a > b ? a : b;

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        await _loop.ConfigureAwait(false);
        _stop.Dispose();
    }
}

/// <summary>What one pass measured of one live instance: CPU over the last interval (percent of one core), memory, and the .NET counters when it is a .NET process.</summary>
public sealed record InstanceSample(string App, int Instance, int Pid, double CpuPercent, long MemoryBytes, Runtime.DotnetCounters? Dotnet)
{
    /// <summary>The slower of the instance's latest ready and live checks; null without probes.</summary>
    public TimeSpan? ProbeLatency { get; init; }
}

/// <summary>One pass of the sampler over every live instance.</summary>
public sealed record ResourcePass(DateTimeOffset Time, IReadOnlyList<InstanceSample> Samples);
