namespace Tend.Metrics;

/// <summary>The kind of a metric family, as written on its <c># TYPE</c> line.</summary>
public enum MetricType { Counter, Gauge, Histogram }

/// <summary>
/// The front every metric family is written through, in Prometheus naming: it checks what the
/// format requires — a family is opened with <see cref="Family"/> (its HELP and TYPE) and its
/// samples follow at once, so every family is contiguous; a counter's name ends in <c>_total</c>;
/// a histogram has one count per bound plus +Inf — and hands the family to an
/// <see cref="IMetricSink"/>: the text exposition (<see cref="PrometheusTextSink"/>, what
/// <c>/metrics</c> serves) or a <see cref="MetricSnapshot"/> (what the OTLP export reads). A
/// misnamed counter is a bug here, not something to discover in a scrape.
/// </summary>
public sealed class PrometheusWriter
{
    public const string ContentType = PrometheusTextSink.ContentType;

    private readonly IMetricSink _sink;
    private readonly HashSet<string> _written = new(StringComparer.Ordinal);
    private string? _family;
    private MetricType _type;

    /// <summary>Writes the text exposition to <paramref name="output"/>.</summary>
    public PrometheusWriter(TextWriter output) : this(new PrometheusTextSink(output)) { }

    public PrometheusWriter(IMetricSink sink) => _sink = sink;

    /// <summary>Begins a family. Each name once per exposition.</summary>
    public void Family(string name, MetricType type, string help)
    {
        if (type == MetricType.Counter && !name.EndsWith("_total", StringComparison.Ordinal))
            throw new ArgumentException($"counter {name} must end in _total", nameof(name));
        if (!_written.Add(name)) throw new InvalidOperationException($"family {name} written twice: a family must be contiguous");
        _family = name;
        _type = type;
        _sink.Family(name, type, help);
    }

    /// <summary>A sample of the current (counter or gauge) family; <paramref name="labels"/> as name, value pairs.</summary>
    public void Sample(double value, params ReadOnlySpan<(string Name, string Value)> labels)
    {
        string family = _family ?? throw new InvalidOperationException("no family begun");
        if (_type == MetricType.Histogram) throw new InvalidOperationException($"{family} is a histogram: use Histogram()");
        _sink.Sample(value, labels);
    }

    /// <summary>
    /// A histogram of the current family: <paramref name="bucketCounts"/> are per bucket (not yet
    /// cumulative), one per bound in <paramref name="bounds"/> plus a last one for +Inf.
    /// </summary>
    public void Histogram(ReadOnlySpan<double> bounds, ReadOnlySpan<long> bucketCounts, double sum, params ReadOnlySpan<(string Name, string Value)> labels)
    {
        string family = _family ?? throw new InvalidOperationException("no family begun");
        if (_type != MetricType.Histogram) throw new InvalidOperationException($"{family} is not a histogram");
        if (bucketCounts.Length != bounds.Length + 1) throw new ArgumentException("one count per bound plus one for +Inf", nameof(bucketCounts));
        _sink.Histogram(bounds, bucketCounts, sum, labels);
    }
}
