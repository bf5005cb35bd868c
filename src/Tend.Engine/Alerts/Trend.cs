namespace Tend.Alerts;

/// <summary>
/// The memory trend of one run of an instance, for leak detection: the points of the last
/// <c>window</c>, a Theil–Sen slope through them (the median of the pairwise slopes, so a GC's drop
/// or a spike does not tilt it), and how well that line explains the points (R²). A leak grows
/// steadily: a high slope with a good fit, over the whole window and over its recent half. A
/// sawtooth (allocate, collect, allocate) has a small slope and a poor fit; a warm-up that levels off
/// has a flat recent half. Both stay quiet.
/// </summary>
public sealed class Trend(TimeSpan window)
{
    /// <summary>Points kept for the fit: the window is thinned to this many so each test costs the same.</summary>
    internal const int MaxFitPoints = 60;
    private readonly List<(DateTimeOffset Time, double Value)> _points = [];

    public TimeSpan Window { get; } = window;

    public int Count => _points.Count;

    /// <summary>How much of the window the points cover.</summary>
    public TimeSpan Covered => _points.Count < 2 ? TimeSpan.Zero : _points[^1].Time - _points[0].Time;

    public double Last => _points.Count == 0 ? 0 : _points[^1].Value;

    public void Add(DateTimeOffset time, double value)
    {
        _points.Add((time, value));
        int drop = 0;
        while (drop < _points.Count && time - _points[drop].Time > Window) drop++;
        if (drop > 0) _points.RemoveRange(0, drop);
    }

    public void Clear() => _points.Clear();

    /// <summary>The fit over the window: slope in units per second, R² of the Theil–Sen line, and the slope of the recent half.</summary>
    public TrendFit? Fit()
    {
        if (_points.Count < 10) return null;
        var thinned = Thin(_points, MaxFitPoints);
        DateTimeOffset origin = thinned[0].Time;
        double[] x = thinned.Select(p => (p.Time - origin).TotalSeconds).ToArray();
        double[] y = thinned.Select(p => p.Value).ToArray();
        double slope = TheilSen(x, y, 0, x.Length);
        double intercept = MedianOf(Enumerable.Range(0, x.Length).Select(i => y[i] - slope * x[i]).ToArray());
        double mean = y.Average();
        double total = 0, residual = 0;
        for (int i = 0; i < x.Length; i++)
        {
            total += (y[i] - mean) * (y[i] - mean);
            double r = y[i] - (intercept + slope * x[i]);
            residual += r * r;
        }
        double r2 = total <= 0 ? 0 : Math.Max(0, 1 - residual / total);
        int half = x.Length / 2;
        double recent = TheilSen(x, y, half, x.Length);
        return new TrendFit(slope, r2, recent);
    }

    private static List<(DateTimeOffset Time, double Value)> Thin(List<(DateTimeOffset Time, double Value)> points, int max)
    {
        if (points.Count <= max) return points;
        var result = new List<(DateTimeOffset, double)>(max);
        for (int i = 0; i < max; i++) result.Add(points[(int)((long)i * (points.Count - 1) / (max - 1))]);
        return result;
    }

    private static double TheilSen(double[] x, double[] y, int from, int to)
    {
        var slopes = new List<double>((to - from) * (to - from - 1) / 2);
        for (int i = from; i < to; i++)
        {
            for (int j = i + 1; j < to; j++)
            {
                double dx = x[j] - x[i];
                if (dx > 0) slopes.Add((y[j] - y[i]) / dx);
            }
        }
        return slopes.Count == 0 ? 0 : MedianOf([.. slopes]);
    }

    private static double MedianOf(double[] values)
    {
        Array.Sort(values);
        int n = values.Length;
        return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
    }
}

/// <summary>A trend's fit: <see cref="Slope"/> per second over the window, the line's <see cref="R2"/>, and the slope of the recent half.</summary>
public sealed record TrendFit(double Slope, double R2, double RecentSlope);
