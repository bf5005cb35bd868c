using System.Globalization;

namespace Tend.Metrics;

/// <summary>The kind of a metric family, as written on its <c># TYPE</c> line.</summary>
public enum MetricType { Counter, Gauge, Histogram }

/// <summary>
/// Writes the Prometheus text exposition format (version 0.0.4) by hand: prometheus-net and the
/// OpenTelemetry exporters are not on our registry, and the format is small. A family is opened
/// with <see cref="Family"/> (its HELP and TYPE lines) and its samples follow at once, so every
/// family is contiguous, as the format requires. Label values are escaped (backslash, double quote,
/// newline); numbers are written in the invariant culture, with NaN and ±Inf spelled as Prometheus
/// spells them. Counter family names must end in <c>_total</c>: a misnamed counter is a bug here,
/// not something to discover in a scrape.
/// </summary>
public sealed class PrometheusWriter
{
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    private readonly TextWriter _out;
    private readonly HashSet<string> _written = new(StringComparer.Ordinal);
    private string? _family;
    private MetricType _type;

    public PrometheusWriter(TextWriter output) => _out = output;

    /// <summary>Begins a family. Each name once per exposition.</summary>
    public void Family(string name, MetricType type, string help)
    {
        if (type == MetricType.Counter && !name.EndsWith("_total", StringComparison.Ordinal))
            throw new ArgumentException($"counter {name} must end in _total", nameof(name));
        if (!_written.Add(name)) throw new InvalidOperationException($"family {name} written twice: a family must be contiguous");
        _family = name;
        _type = type;
        _out.Write("# HELP ");
        _out.Write(name);
        _out.Write(' ');
        WriteHelp(help);
        _out.Write('\n');
        _out.Write("# TYPE ");
        _out.Write(name);
        _out.Write(' ');
        _out.Write(type switch { MetricType.Counter => "counter", MetricType.Gauge => "gauge", _ => "histogram" });
        _out.Write('\n');
    }

    /// <summary>A sample of the current (counter or gauge) family; <paramref name="labels"/> as name, value pairs.</summary>
    public void Sample(double value, params ReadOnlySpan<(string Name, string Value)> labels)
    {
        string family = _family ?? throw new InvalidOperationException("no family begun");
        if (_type == MetricType.Histogram) throw new InvalidOperationException($"{family} is a histogram: use Histogram()");
        WriteSample(family, labels, null, value);
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
        string bucket = family + "_bucket";
        long cumulative = 0;
        for (int i = 0; i <= bounds.Length; i++)
        {
            cumulative += bucketCounts[i];
            WriteSample(bucket, labels, i < bounds.Length ? bounds[i] : double.PositiveInfinity, cumulative);
        }
        WriteSample(family + "_sum", labels, null, sum);
        WriteSample(family + "_count", labels, null, cumulative);
    }

    private void WriteSample(string name, ReadOnlySpan<(string Name, string Value)> labels, double? le, double value)
    {
        _out.Write(name);
        if (labels.Length > 0 || le is not null)
        {
            _out.Write('{');
            for (int i = 0; i < labels.Length; i++)
            {
                if (i > 0) _out.Write(',');
                _out.Write(labels[i].Name);
                _out.Write("=\"");
                WriteLabelValue(labels[i].Value);
                _out.Write('"');
            }
            if (le is double bound)
            {
                if (labels.Length > 0) _out.Write(',');
                _out.Write("le=\"");
                WriteNumber(bound);
                _out.Write('"');
            }
            _out.Write('}');
        }
        _out.Write(' ');
        WriteNumber(value);
        _out.Write('\n');
    }

    private void WriteNumber(double value)
    {
        if (double.IsPositiveInfinity(value)) _out.Write("+Inf");
        else if (double.IsNegativeInfinity(value)) _out.Write("-Inf");
        else if (double.IsNaN(value)) _out.Write("NaN");
        else if (value == Math.Floor(value) && Math.Abs(value) < 1e15) _out.Write(((long)value).ToString(CultureInfo.InvariantCulture));
        else _out.Write(value.ToString("R", CultureInfo.InvariantCulture));
    }

    private void WriteLabelValue(string value)
    {
        foreach (char c in value)
        {
            switch (c)
            {
                case '\\': _out.Write("\\\\"); break;
                case '"': _out.Write("\\\""); break;
                case '\n': _out.Write("\\n"); break;
                default: _out.Write(c); break;
            }
        }
    }

    // HELP text escapes backslash and newline only (a quote is fine there).
    private void WriteHelp(string help)
    {
        foreach (char c in help)
        {
            switch (c)
            {
                case '\\': _out.Write("\\\\"); break;
                case '\n': _out.Write("\\n"); break;
                default: _out.Write(c); break;
            }
        }
    }
}
