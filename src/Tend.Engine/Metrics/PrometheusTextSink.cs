using System.Globalization;

namespace Tend.Metrics;

/// <summary>
/// Writes the Prometheus text exposition format (version 0.0.4) by hand: prometheus-net is not on
/// our registry, and the format is small. <see cref="PrometheusWriter"/> has already checked the
/// family (contiguous, counters named <c>_total</c>); this only spells it. Label values are escaped
/// (backslash, double quote, newline); numbers are written in the invariant culture, with NaN and
/// ±Inf spelled as Prometheus spells them.
/// </summary>
public sealed class PrometheusTextSink : IMetricSink
{
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    private readonly TextWriter _out;
    private string _family = "";

    public PrometheusTextSink(TextWriter output) => _out = output;

    public void Family(string name, MetricType type, string help)
    {
        _family = name;
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

    public void Sample(double value, ReadOnlySpan<(string Name, string Value)> labels) => WriteSample(_family, labels, null, value);

    public void Histogram(ReadOnlySpan<double> bounds, ReadOnlySpan<long> bucketCounts, double sum, ReadOnlySpan<(string Name, string Value)> labels)
    {
        string bucket = _family + "_bucket";
        long cumulative = 0;
        for (int i = 0; i <= bounds.Length; i++)
        {
            cumulative += bucketCounts[i];
            WriteSample(bucket, labels, i < bounds.Length ? bounds[i] : double.PositiveInfinity, cumulative);
        }
        WriteSample(_family + "_sum", labels, null, sum);
        WriteSample(_family + "_count", labels, null, cumulative);
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
