namespace Tend.Metrics;

/// <summary>
/// The OpenTelemetry name and unit of a Prometheus family, by rule rather than by a table, so a
/// family added to <see cref="TendMetrics"/> gets its OTLP name without anyone writing it down
/// twice. The rule undoes what an OTLP-to-Prometheus translation (the Collector's Prometheus
/// exporter, Prometheus's own OTLP receiver) does: a counter loses <c>_total</c> (its monotonic sum
/// says it), <c>_</c> becomes <c>.</c>, and the unit word stays in the name while the unit also
/// goes in the unit field (<c>_seconds</c> → <c>s</c>, <c>_bytes</c> → <c>By</c>). Those
/// translators do not append a unit the name already ends with, so the series come back under the
/// very names <c>/metrics</c> serves: <c>tend.instance.cpu.seconds</c> (counter, unit s) is stored
/// as <c>tend_instance_cpu_seconds_total</c>.
/// </summary>
public static class OtelNames
{
    /// <summary>The instrument name for a counter or gauge family.</summary>
    public static string Name(string family, MetricType type)
    {
        string name = type == MetricType.Counter && family.EndsWith("_total", StringComparison.Ordinal) ? family[..^"_total".Length] : family;
        return name.Replace('_', '.');
    }

    /// <summary>The unit (UCUM, as OpenTelemetry spells it) a family's values are in; null for plain counts.</summary>
    public static string? Unit(string family, MetricType type)
    {
        string name = type == MetricType.Counter && family.EndsWith("_total", StringComparison.Ordinal) ? family[..^"_total".Length] : family;
        if (name.EndsWith("_seconds", StringComparison.Ordinal)) return "s";
        if (name.EndsWith("_bytes", StringComparison.Ordinal)) return "By";
        return null;
    }
}
