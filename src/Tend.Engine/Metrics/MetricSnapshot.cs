namespace Tend.Metrics;

/// <summary>
/// One collection pass kept as data instead of text: the families <see cref="TendMetrics"/> wrote,
/// in order, with their samples. What the OTLP export reads (through <see cref="MeterBridge"/>),
/// fed by the very pass that writes <c>/metrics</c>.
/// </summary>
public sealed class MetricSnapshot : IMetricSink
{
    private readonly List<MetricFamily> _families = [];

    public IReadOnlyList<MetricFamily> Families => _families;

    public void Family(string name, MetricType type, string help) => _families.Add(new MetricFamily(name, type, help));

    public void Sample(double value, ReadOnlySpan<(string Name, string Value)> labels) =>
        Current.Samples.Add(new MetricSample(value, labels.ToArray(), null));

    public void Histogram(ReadOnlySpan<double> bounds, ReadOnlySpan<long> bucketCounts, double sum, ReadOnlySpan<(string Name, string Value)> labels) =>
        Current.Samples.Add(new MetricSample(sum, labels.ToArray(), new HistogramCounts(bounds.ToArray(), bucketCounts.ToArray())));

    private MetricFamily Current => _families.Count > 0 ? _families[^1] : throw new InvalidOperationException("no family begun");
}

/// <summary>A family of a <see cref="MetricSnapshot"/>, as <see cref="PrometheusWriter"/> named it.</summary>
public sealed class MetricFamily(string name, MetricType type, string help)
{
    public string Name { get; } = name;
    public MetricType Type { get; } = type;
    public string Help { get; } = help;
    public List<MetricSample> Samples { get; } = [];
}

/// <summary>
/// A sample: the value of a counter or gauge, or for a histogram its sum with the per-bucket
/// (not cumulative) counts in <see cref="Buckets"/>.
/// </summary>
public sealed record MetricSample(double Value, (string Name, string Value)[] Labels, HistogramCounts? Buckets);

/// <summary>Bucket bounds and per-bucket counts of one histogram sample (counts has one more entry, for +Inf).</summary>
public sealed record HistogramCounts(double[] Bounds, long[] Counts);
