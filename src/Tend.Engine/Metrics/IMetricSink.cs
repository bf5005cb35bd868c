namespace Tend.Metrics;

/// <summary>
/// Where the families that <see cref="PrometheusWriter"/> checked go: the Prometheus text
/// exposition (<see cref="PrometheusTextSink"/>) or a <see cref="MetricSnapshot"/> that the OTLP
/// export reads. One collection pass in <see cref="TendMetrics"/> feeds either, so a family added
/// there reaches both without a second list of metrics to keep in step.
/// </summary>
public interface IMetricSink
{
    /// <summary>Begins a family; every sample until the next call belongs to it.</summary>
    void Family(string name, MetricType type, string help);

    /// <summary>A counter or gauge sample of the current family.</summary>
    void Sample(double value, ReadOnlySpan<(string Name, string Value)> labels);

    /// <summary>
    /// A histogram of the current family: <paramref name="bucketCounts"/> per bucket (not cumulative),
    /// one per bound plus a last one for +Inf.
    /// </summary>
    void Histogram(ReadOnlySpan<double> bounds, ReadOnlySpan<long> bucketCounts, double sum, ReadOnlySpan<(string Name, string Value)> labels);
}
