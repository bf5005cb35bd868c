namespace Tend.Supervision;

/// <summary>
/// The last <see cref="Capacity"/> points of one app's CPU and memory (its live instances summed),
/// for the dashboard's charts: ten minutes at <see cref="Resolution"/>. Fed by
/// <see cref="ResourceSampler"/>'s once-a-second pass, which it averages into 5 s buckets aligned to
/// the wall clock, so it costs no timer of its own and nothing while no instance runs (a bucket with
/// no sample is simply absent: a gap in the chart). Fixed-size: an app's history never grows.
/// </summary>
public sealed class ResourceHistory
{
    public const int Capacity = 120;
    public static readonly TimeSpan Resolution = TimeSpan.FromSeconds(5);

    private readonly Lock _gate = new();
    private readonly ResourceSample[] _ring = new ResourceSample[Capacity];
    private int _next;
    private int _count;

    // The bucket being filled: its start (Unix ms, a multiple of Resolution) and running sums.
    private long _bucket = -1;
    private double _cpuSum;
    private double _memorySum;
    private int _instancesMax;
    private int _samples;

    /// <summary>One pass of the sampler: the app's total CPU % and resident bytes at <paramref name="now"/>.</summary>
    public void Add(DateTimeOffset now, double cpuPercent, long memoryBytes, int instances)
    {
        long resolutionMs = (long)Resolution.TotalMilliseconds;
        long bucket = now.ToUnixTimeMilliseconds() / resolutionMs * resolutionMs;
        lock (_gate)
        {
            if (bucket != _bucket)
            {
                Flush();
                _bucket = bucket;
            }
            _cpuSum += cpuPercent;
            _memorySum += memoryBytes;
            _instancesMax = Math.Max(_instancesMax, instances);
            _samples++;
        }
    }

    /// <summary>Oldest first; the bucket still filling comes last, so a chart has a point at once.</summary>
    public IReadOnlyList<ResourceSample> Snapshot()
    {
        lock (_gate)
        {
            var points = new List<ResourceSample>(_count + 1);
            for (int i = 0; i < _count; i++) points.Add(_ring[(_next - _count + i + Capacity) % Capacity]);
            if (_samples > 0) points.Add(Current());
            return points;
        }
    }

    private void Flush()
    {
        if (_samples == 0) return;
        _ring[_next] = Current();
        _next = (_next + 1) % Capacity;
        _count = Math.Min(_count + 1, Capacity);
        _cpuSum = 0;
        _memorySum = 0;
        _instancesMax = 0;
        _samples = 0;
    }

    private ResourceSample Current() => new(
        DateTimeOffset.FromUnixTimeMilliseconds(_bucket), Math.Round(_cpuSum / _samples, 2), (long)(_memorySum / _samples), _instancesMax);
}

/// <summary>
/// One point of an app's resource history: the mean over a bucket of <see cref="ResourceHistory.Resolution"/>
/// of its live instances' summed CPU % (100 = one core) and resident memory, and the most instances
/// sampled in it. Time is the bucket's start.
/// </summary>
public readonly record struct ResourceSample(DateTimeOffset Time, double CpuPercent, long MemoryBytes, int Instances);

/// <summary>One app's recent CPU and memory, oldest point first.</summary>
public sealed record AppResourceHistory(string Name, TimeSpan Resolution, IReadOnlyList<ResourceSample> Points);
