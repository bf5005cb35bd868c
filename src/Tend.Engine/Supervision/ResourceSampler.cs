using Tend.Processes;

namespace Tend.Supervision;

/// <summary>
/// Every second: one pass over /proc summing CPU time and resident memory per process group
/// (an instance's group is the instance and everything it forked), then each online instance gets
/// its share. max_memory is enforced from these samples, so it is checked once a second. With no
/// live instance the tick does nothing: an idle daemon should cost nothing. The same pass feeds each
/// app's <see cref="ResourceHistory"/> (the dashboard's charts), so history needs no timer of its own.
/// </summary>
internal sealed class ResourceSampler : IAsyncDisposable
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    private readonly Supervisor _owner;
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _stop = new();
    private readonly Dictionary<int, (long Ticks, long At)> _previous = [];
    private Task _loop = Task.CompletedTask;

    public ResourceSampler(Supervisor owner, TimeProvider time)
    {
        _owner = owner;
        _time = time;
    }

    public void Start() => _loop = Task.Run(LoopAsync);

    private async Task LoopAsync()
    {
        using var timer = new PeriodicTimer(Interval, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token).ConfigureAwait(false))
                SampleOnce();
        }
        catch (OperationCanceledException) { }
    }

    internal void SampleOnce()
    {
        var live = _owner.Apps.SelectMany(a => a.Instances).Where(i => i.LiveProcess is not null).ToList();
        if (live.Count == 0)
        {
            _previous.Clear();
            return;
        }
        IReadOnlyDictionary<int, GroupUsage> groups = ProcStat.SampleGroups();
        long now = _time.GetTimestamp();
        var seen = new HashSet<int>();
        var totals = new Dictionary<App, (double Cpu, long Memory, int Count)>();
        foreach (Instance inst in live)
        {
            if (inst.LiveProcess is not { Pid: int pid }) continue;
            if (!groups.TryGetValue(pid, out GroupUsage usage)) continue;
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
            var total = totals.GetValueOrDefault(inst.App);
            totals[inst.App] = (total.Cpu + cpu, total.Memory + usage.RssBytes, total.Count + 1);
        }
        DateTimeOffset wallNow = _time.GetUtcNow();
        foreach (var (app, total) in totals) app.History.Add(wallNow, total.Cpu, total.Memory, total.Count);
        foreach (int gone in _previous.Keys.Where(k => !seen.Contains(k)).ToList()) _previous.Remove(gone);
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        await _loop.ConfigureAwait(false);
        _stop.Dispose();
    }
}
