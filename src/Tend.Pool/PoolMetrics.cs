using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Tend.Pool;

/// <summary>
/// The pool's instruments on the <c>Tend.Pool</c> meter, so any OpenTelemetry or Prometheus exporter
/// (or a MeterListener) picks them up. Every measurement carries <c>tend.pool.name</c>.
/// </summary>
internal sealed class PoolMetrics : IDisposable
{
    public const string MeterName = "Tend.Pool";

    private static readonly Meter s_meter = new(MeterName, typeof(PoolMetrics).Assembly.GetName().Version?.ToString());
    private static readonly Histogram<double> s_duration = s_meter.CreateHistogram<double>("tend.pool.task.duration", "s",
        "Time from InvokeAsync to the task's outcome, queue wait included; tag outcome.");
    private static readonly Counter<long> s_failures = s_meter.CreateCounter<long>("tend.pool.task.failures", "{task}",
        "Tasks that did not return a result; tag kind: rejected, timeout, worker_lost, task_error, cancelled, circuit_open, shutdown.");
    private static readonly Counter<long> s_recycles = s_meter.CreateCounter<long>("tend.pool.worker.recycles", "{worker}",
        "Workers replaced on purpose; tag reason: max_tasks, max_age, max_memory, replace, swap.");
    private static readonly Counter<long> s_lost = s_meter.CreateCounter<long>("tend.pool.worker.lost", "{worker}",
        "Workers that died, hung or were killed for a timed-out task.");

    private static readonly List<ProcessPool> s_pools = [];
    private static readonly Lock s_gate = new();

    private readonly KeyValuePair<string, object?> _tag;

    static PoolMetrics()
    {
        s_meter.CreateObservableUpDownCounter("tend.pool.queue.length", () => Each(p => p.QueueLength), "{task}", "Tasks waiting for a worker.");
        s_meter.CreateObservableUpDownCounter("tend.pool.tasks.in_flight", () => Each(p => p.InFlight), "{task}", "Tasks a worker is running.");
        s_meter.CreateObservableUpDownCounter("tend.pool.workers", () => Each(p => p.Workers.Count(w => w.State == "active")), "{worker}", "Workers taking tasks.");
        s_meter.CreateObservableGauge("tend.pool.worker.memory", ObserveMemory, "By", "Resident memory of each active worker (tag tend.pool.worker), read at each heartbeat.");
    }

    public PoolMetrics(ProcessPool pool)
    {
        _tag = new("tend.pool.name", pool.Name);
        lock (s_gate) s_pools.Add(pool);
        _pool = pool;
    }

    private readonly ProcessPool _pool;

    public void Completed(TimeSpan duration, string outcome) =>
        s_duration.Record(duration.TotalSeconds, _tag, new("outcome", outcome));

    public void Failed(string kind) => s_failures.Add(1, _tag, new("kind", kind));

    public void Recycled(string reason, int count = 1) => s_recycles.Add(count, _tag, new("reason", reason));

    public void WorkerLost() => s_lost.Add(1, _tag);

    public void Dispose()
    {
        lock (s_gate) s_pools.Remove(_pool);
    }

    private static IEnumerable<Measurement<int>> Each(Func<ProcessPool, int> read)
    {
        ProcessPool[] pools;
        lock (s_gate) pools = [.. s_pools];
        foreach (ProcessPool p in pools) yield return new Measurement<int>(read(p), new KeyValuePair<string, object?>("tend.pool.name", p.Name));
    }

    private static IEnumerable<Measurement<long>> ObserveMemory()
    {
        ProcessPool[] pools;
        lock (s_gate) pools = [.. s_pools];
        foreach (ProcessPool p in pools)
        {
            foreach (PoolWorkerInfo w in p.Workers)
            {
                if (w.State != "active" || w.RssBytes is not long rss) continue;
                yield return new Measurement<long>(rss, new("tend.pool.name", p.Name), new("tend.pool.worker", w.WorkerId));
            }
        }
    }
}
