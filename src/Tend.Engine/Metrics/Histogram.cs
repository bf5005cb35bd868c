namespace Tend.Metrics;

/// <summary>
/// A fixed-bucket histogram of seconds, safe to observe from any thread. Counts are kept per
/// bucket (the writer makes them cumulative), so an observation is one search and one increment.
/// </summary>
public sealed class Histogram
{
    /// <summary>The default bounds, in seconds: from a millisecond to ten seconds.</summary>
    public static readonly double[] DefaultBounds = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    private readonly double[] _bounds;
    private readonly long[] _counts;
    private readonly Lock _gate = new();
    private double _sum;

    public Histogram() : this(DefaultBounds) { }

    public Histogram(double[] bounds)
    {
        _bounds = bounds;
        _counts = new long[bounds.Length + 1];
    }

    public ReadOnlySpan<double> Bounds => _bounds;

    public void Observe(double value)
    {
        int i = 0;
        while (i < _bounds.Length && value > _bounds[i]) i++;
        lock (_gate)
        {
            _counts[i]++;
            _sum += value;
        }
    }

    /// <summary>Copies the per-bucket counts into <paramref name="counts"/> (length bounds + 1) and returns the sum.</summary>
    public double CopyTo(Span<long> counts)
    {
        lock (_gate)
        {
            _counts.CopyTo(counts);
            return _sum;
        }
    }
}
