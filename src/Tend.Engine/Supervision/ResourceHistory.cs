namespace Tend.Supervision;

/// <summary>
/// The last <see cref="Capacity"/> points of one app's CPU and memory (its live instances summed),
/// for the dashboard's charts: ten minutes at <see cref="Resolution"/>. Fed by
/// <see cref="ResourceSampler"/>'s passes, which it averages into 5 s buckets aligned to the wall
/// clock, so it costs no timer of its own and nothing while no instance runs (a bucket with no
/// sample is simply absent: a gap in the chart). While nobody looks the sampler passes only every
/// <see cref="ResourceSampler.IdleInterval"/>; a pass then says which span it stands for (its CPU
/// figure is the mean over exactly that span) and fills the buckets in it that had no pass of their
/// own, so the chart has no holes for the quiet time. Fixed-size: an app's history never grows.
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

    /// <summary>
    /// One pass of the sampler: the app's total CPU % and resident bytes at <paramref name="now"/>.
    /// <paramref name="since"/> is the previous pass the app was in, when its figures stand for the
    /// whole span from there (the sampler's CPU is the mean over it): the buckets strictly between
    /// that pass's and this one's get this pass's figures, as the chart's point for them.
    /// </summary>
    public void Add(DateTimeOffset now, double cpuPercent, long memoryBytes, int instances, DateTimeOffset? since = null)
    {
        long bucket = BucketOf(now);
        lock (_gate)
        {
            if (bucket != _bucket)
            {
                Flush();
                if (since is DateTimeOffset from && from < now) Fill(BucketOf(from), bucket, cpuPercent, memoryBytes, instances);
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

    private static long BucketOf(DateTimeOffset time)
    {
        long resolutionMs = (long)Resolution.TotalMilliseconds;
        return time.ToUnixTimeMilliseconds() / resolutionMs * resolutionMs;
    }

    /// <summary>The empty buckets after <paramref name="from"/>'s and before <paramref name="to"/>, newer than any point held; at most a ring's worth.</summary>
    private void Fill(long from, long to, double cpuPercent, long memoryBytes, int instances)
    {
        long resolutionMs = (long)Resolution.TotalMilliseconds;
        long first = Math.Max(from, _bucket) + resolutionMs;
        first = Math.Max(first, to - resolutionMs * Capacity);
        for (long bucket = first; bucket < to; bucket += resolutionMs)
        {
            _ring[_next] = new ResourceSample(DateTimeOffset.FromUnixTimeMilliseconds(bucket), Math.Round(cpuPercent, 2), memoryBytes, instances);
            _next = (_next + 1) % Capacity;
            _count = Math.Min(_count + 1, Capacity);
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
