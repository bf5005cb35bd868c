using System.Globalization;

namespace Tend.Runtime;

/// <summary>
/// Turns the payloads of <c>EventCounters</c> events into <see cref="DotnetCounters"/>. A payload
/// is the dictionary the runtime writes for one counter and one interval: <c>Name</c>, and either
/// <c>Mean</c> (a polling counter: a gauge, sampled once per interval) or <c>Increment</c> (an
/// incrementing counter: what was added during the interval), plus <c>IntervalSec</c>.
/// The runtime reports sizes in "MB" of 1,000,000 bytes (<c>gc-heap-size</c>, <c>working-set</c>);
/// they are turned back into bytes here. Counters Tend does not show are ignored, as is anything
/// malformed: a payload never throws. Not thread-safe: one session feeds one accumulator.
/// </summary>
public sealed class DotnetCounterAccumulator
{
    private const double RuntimeMegabyte = 1_000_000;

    private long _gcHeapBytes;
    private long _gen0;
    private long _gen1;
    private long _gen2;
    private double _allocRate;
    private long _allocated;
    private double _timeInGc;
    private long _threads;
    private long _queue;
    private long _contentions;
    private long _exceptions;
    private long _workingSet;

    /// <summary>True once any counter Tend shows has been read.</summary>
    public bool HasData { get; private set; }

    /// <summary>Applies one counter payload; false when it is not one Tend shows (or is malformed).</summary>
    public bool Apply(IDictionary<string, object> payload)
    {
        if (!payload.TryGetValue("Name", out object? n) || n is not string name) return false;
        double? mean = Number(payload, "Mean");
        double? increment = Number(payload, "Increment");
        switch (name)
        {
            case "gc-heap-size" when mean is double v: _gcHeapBytes = Whole(v * RuntimeMegabyte); break;
            case "working-set" when mean is double v: _workingSet = Whole(v * RuntimeMegabyte); break;
            case "time-in-gc" when mean is double v: _timeInGc = Math.Clamp(v, 0, 100); break;
            case "threadpool-thread-count" when mean is double v: _threads = Whole(v); break;
            case "threadpool-queue-length" when mean is double v: _queue = Whole(v); break;
            case "gen-0-gc-count" when increment is double v: _gen0 += Whole(v); break;
            case "gen-1-gc-count" when increment is double v: _gen1 += Whole(v); break;
            case "gen-2-gc-count" when increment is double v: _gen2 += Whole(v); break;
            case "monitor-lock-contention-count" when increment is double v: _contentions += Whole(v); break;
            case "exception-count" when increment is double v: _exceptions += Whole(v); break;
            case "alloc-rate" when increment is double v:
                long bytes = Whole(v);
                _allocated += bytes;
                double seconds = Number(payload, "IntervalSec") ?? 0;
                _allocRate = seconds > 0 ? bytes / seconds : 0;
                break;
            default: return false;
        }
        HasData = true;
        return true;
    }

    public DotnetCounters Snapshot(DateTimeOffset at) => new(
        at, _gcHeapBytes, _gen0, _gen1, _gen2, _allocRate, _allocated, _timeInGc, _threads, _queue, _contentions, _exceptions, _workingSet);

    // Counts and sizes arrive as doubles; a negative or non-finite one is a runtime oddity, read as 0.
    private static long Whole(double value) =>
        double.IsFinite(value) && value > 0 ? (long)Math.Round(Math.Min(value, long.MaxValue / 2.0)) : 0;

    private static double? Number(IDictionary<string, object> payload, string key)
    {
        if (!payload.TryGetValue(key, out object? value)) return null;
        return value switch
        {
            double d when double.IsFinite(d) => d,
            float f when float.IsFinite(f) => f,
            int i => i,
            long l => l,
            string s when double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double p) && double.IsFinite(p) => p,
            _ => null,
        };
    }
}
