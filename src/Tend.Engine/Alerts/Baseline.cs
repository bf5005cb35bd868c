namespace Tend.Alerts;

/// <summary>
/// A robust baseline of one series: the median and the median absolute deviation (MAD) of the last
/// <c>capacity</c> samples. A point's score is how many spreads it lies from the median, where the
/// spread is 1.4826·MAD (a standard deviation for normal noise) but never below a floor: a series
/// that sat exactly still (CPU 0.0 for an idle app) has no spread, and any twitch would otherwise be
/// infinitely anomalous. The median and MAD ignore outliers, so a few spikes during learning do not
/// widen the baseline the way a mean and a standard deviation would (noex's mean + k·σ).
/// What goes in is the caller's decision: <see cref="AlertEngine"/> stops adding while an anomaly is
/// pending or firing, so the anomaly never teaches itself to be normal.
/// </summary>
public sealed class Baseline(int capacity)
{
    private readonly double[] _ring = new double[capacity];
    private int _start;
    private int _count;

    public int Count => _count;

    public void Add(double value)
    {
        if (_count < _ring.Length) _ring[(_start + _count++) % _ring.Length] = value;
        else
        {
            _ring[_start] = value;
            _start = (_start + 1) % _ring.Length;
        }
    }

    public void Clear()
    {
        _start = 0;
        _count = 0;
    }

    /// <summary>The median and the spread (1.4826·MAD) of what was added.</summary>
    public (double Median, double Spread) Describe()
    {
        if (_count == 0) return (0, 0);
        var values = new double[_count];
        for (int i = 0; i < _count; i++) values[i] = _ring[(_start + i) % _ring.Length];
        double median = Median(values);
        for (int i = 0; i < values.Length; i++) values[i] = Math.Abs(values[i] - median);
        return (median, 1.4826 * Median(values));
    }

    /// <summary>
    /// How many spreads <paramref name="value"/> lies from the median in the watched direction (0 or
    /// more). The spread is at least <paramref name="minDelta"/> and a tenth of the median, so a flat
    /// baseline needs a real change, not noise, to score.
    /// </summary>
    public double Score(double value, Config.AnomalyDirection direction, double minDelta)
    {
        var (median, spread) = Describe();
        double floor = Math.Max(minDelta, Math.Abs(median) * 0.1);
        double scale = Math.Max(spread, floor);
        if (scale <= 0) scale = double.Epsilon;
        double deviation = value - median;
        deviation = direction switch
        {
            Config.AnomalyDirection.Up => Math.Max(0, deviation),
            Config.AnomalyDirection.Down => Math.Max(0, -deviation),
            _ => Math.Abs(deviation),
        };
        return deviation / scale;
    }

    private static double Median(double[] values)
    {
        Array.Sort(values);
        int n = values.Length;
        return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
    }
}
