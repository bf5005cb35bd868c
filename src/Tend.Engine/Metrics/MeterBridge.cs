using System.Diagnostics.Metrics;
using System.Globalization;

namespace Tend.Metrics;

/// <summary>
/// Publishes every family of a collection pass (<see cref="TendMetrics"/> plus the host's own) as
/// observable instruments of a <see cref="Meter"/> named <see cref="MeterName"/>, for the OTLP
/// export to read. Only the BCL's System.Diagnostics.Metrics is used here; the OpenTelemetry SDK
/// that listens to the meter lives in the daemon and is loaded only when export is configured.
///
/// <para>One pass feeds all instruments of one export. A reader calls each instrument's callback
/// once per collection, in an order that is not ours, so the bridge counts which instruments the
/// current snapshot has served: the first callback for an instrument that was already served
/// starts a new pass. Every collection therefore sees one consistent moment, and costs one pass,
/// the same as one scrape of <c>/metrics</c>.</para>
///
/// <para>Instruments are made from the families the passes find, never from a list kept here: a
/// family added to <see cref="TendMetrics"/> is exported without touching this file. One that first
/// appears after start is created outside the reader's callback (creating an instrument inside it
/// would change the listener's instrument list while the reader walks it), so it is exported from
/// the next collection on.</para>
///
/// <para>The .NET metrics API has no asynchronous histogram, and a histogram kept as buckets cannot
/// be replayed into a synchronous one, so a histogram family goes out as its Prometheus parts:
/// <c>.bucket</c> (cumulative count per upper bound, attribute <c>le</c>), <c>.sum</c> and
/// <c>.count</c>, all monotonic counters.</para>
/// </summary>
public sealed class MeterBridge : IDisposable
{
    public const string MeterName = "Tend";

    private readonly Meter _meter;
    private readonly Action<PrometheusWriter> _collect;
    private readonly Action<Exception> _onError;
    private readonly Lock _gate = new();
    private readonly HashSet<string> _created = new(StringComparer.Ordinal);
    private readonly HashSet<string> _served = new(StringComparer.Ordinal);
    private Dictionary<string, List<Measurement<double>>> _current = new(StringComparer.Ordinal);
    private bool _stale = true;

    /// <param name="collect">One collection pass, written through the writer it is given.</param>
    /// <param name="version">The meter's version (the daemon's).</param>
    /// <param name="onError">Told when a pass throws; the previous snapshot is exported again.</param>
    public MeterBridge(Action<PrometheusWriter> collect, string? version, Action<Exception> onError)
    {
        _collect = collect;
        _onError = onError;
        _meter = new Meter(MeterName, version);
        // A first pass only to learn the families, before any listener subscribes; the first
        // collection takes a fresh one (_stale).
        List<InstrumentSpec> found;
        lock (_gate) found = Refresh();
        Create(found);
    }

    /// <summary>Names of the instruments published so far (for tests and the daemon log).</summary>
    public IReadOnlyCollection<string> Instruments
    {
        get { lock (_gate) return [.. _created]; }
    }

    /// <summary>The meter, for a listener in tests to tell this bridge's instruments from another's.</summary>
    internal Meter Meter => _meter;

    public void Dispose() => _meter.Dispose();

    private IEnumerable<Measurement<double>> Observe(string instrument)
    {
        List<InstrumentSpec> found = [];
        List<Measurement<double>>? measurements;
        lock (_gate)
        {
            if (_stale || !_served.Add(instrument))
            {
                found = Refresh();
                _stale = false;
                _served.Clear();
                _served.Add(instrument);
            }
            measurements = _current.GetValueOrDefault(instrument);
        }
        if (found.Count > 0) ThreadPool.QueueUserWorkItem(static state => state.bridge.Create(state.found), (bridge: this, found), preferLocal: false);
        return measurements ?? [];
    }

    /// <summary>Takes a pass into <see cref="_current"/>; returns the instruments it found that do not exist yet. Under <see cref="_gate"/>.</summary>
    private List<InstrumentSpec> Refresh()
    {
        var snapshot = new MetricSnapshot();
        try
        {
            _collect(new PrometheusWriter(snapshot));
        }
        catch (Exception e)
        {
            _onError(e);
            return [];
        }
        var current = new Dictionary<string, List<Measurement<double>>>(StringComparer.Ordinal);
        var found = new List<InstrumentSpec>();
        foreach (MetricFamily family in snapshot.Families)
        {
            if (family.Type == MetricType.Histogram)
            {
                string name = family.Name.Replace('_', '.');
                List<Measurement<double>> buckets = Add(current, found, new InstrumentSpec(name + ".bucket", true, null, family.Help + " (count of checks at or under the upper bound le)"));
                List<Measurement<double>> sums = Add(current, found, new InstrumentSpec(name + ".sum", true, OtelNames.Unit(family.Name, family.Type), family.Help + " (sum)"));
                List<Measurement<double>> counts = Add(current, found, new InstrumentSpec(name + ".count", true, null, family.Help + " (count)"));
                foreach (MetricSample sample in family.Samples)
                {
                    if (sample.Buckets is not { } h) continue;
                    long cumulative = 0;
                    for (int i = 0; i < h.Counts.Length; i++)
                    {
                        cumulative += h.Counts[i];
                        string le = i < h.Bounds.Length ? h.Bounds[i].ToString(CultureInfo.InvariantCulture) : "+Inf";
                        buckets.Add(new Measurement<double>(cumulative, Tags(sample.Labels, ("le", le))));
                    }
                    sums.Add(new Measurement<double>(sample.Value, Tags(sample.Labels)));
                    counts.Add(new Measurement<double>(cumulative, Tags(sample.Labels)));
                }
            }
            else
            {
                var spec = new InstrumentSpec(OtelNames.Name(family.Name, family.Type), family.Type == MetricType.Counter, OtelNames.Unit(family.Name, family.Type), family.Help);
                List<Measurement<double>> into = Add(current, found, spec);
                foreach (MetricSample sample in family.Samples) into.Add(new Measurement<double>(sample.Value, Tags(sample.Labels)));
            }
        }
        _current = current;
        return found;
    }

    private List<Measurement<double>> Add(Dictionary<string, List<Measurement<double>>> current, List<InstrumentSpec> found, InstrumentSpec spec)
    {
        if (!current.TryGetValue(spec.Name, out var list)) current[spec.Name] = list = [];
        if (!_created.Contains(spec.Name)) found.Add(spec);
        return list;
    }

    private void Create(List<InstrumentSpec> specs)
    {
        foreach (InstrumentSpec spec in specs)
        {
            lock (_gate)
            {
                if (!_created.Add(spec.Name)) continue;
            }
            string name = spec.Name;
            if (spec.Monotonic) _meter.CreateObservableCounter(name, () => Observe(name), spec.Unit, spec.Help);
            else _meter.CreateObservableGauge(name, () => Observe(name), spec.Unit, spec.Help);
        }
    }

    private static KeyValuePair<string, object?>[] Tags((string Name, string Value)[] labels, (string Name, string Value)? extra = null)
    {
        var tags = new KeyValuePair<string, object?>[labels.Length + (extra is null ? 0 : 1)];
        for (int i = 0; i < labels.Length; i++) tags[i] = new(labels[i].Name, labels[i].Value);
        if (extra is var (name, value)) tags[^1] = new(name, value);
        return tags;
    }

    private sealed record InstrumentSpec(string Name, bool Monotonic, string? Unit, string Help);
}
