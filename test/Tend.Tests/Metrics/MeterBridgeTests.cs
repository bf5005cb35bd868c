using System.Diagnostics.Metrics;
using Tend.Metrics;
using Tend.Tests.Support;

namespace Tend.Tests.Metrics;

/// <summary>
/// The bridge from a collection pass to System.Diagnostics.Metrics instruments, read by a real
/// <see cref="MeterListener"/> (what the OpenTelemetry SDK uses underneath).
/// </summary>
public sealed class MeterBridgeTests
{
    /// <summary>A listener on one bridge's meter: what one collection observed, by instrument.</summary>
    private sealed class Reader : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly Lock _gate = new();
        private readonly Dictionary<string, Instrument> _instruments = [];
        private List<(string Instrument, double Value, Dictionary<string, string> Tags)> _seen = [];

        public Reader(MeterBridge bridge)
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter != bridge.Meter) return;
                lock (_gate) _instruments[instrument.Name] = instrument;
                listener.EnableMeasurementEvents(instrument);
            };
            _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) =>
            {
                var t = new Dictionary<string, string>();
                foreach (var (k, v) in tags) t[k] = (string)v!;
                lock (_gate) _seen.Add((instrument.Name, value, t));
            });
            _listener.Start();
        }

        public Instrument Instrument(string name) { lock (_gate) return _instruments[name]; }

        public bool Has(string name) { lock (_gate) return _instruments.ContainsKey(name); }

        public List<(string Instrument, double Value, Dictionary<string, string> Tags)> Collect()
        {
            lock (_gate) _seen = [];
            _listener.RecordObservableInstruments();
            lock (_gate) return _seen;
        }

        public void Dispose() => _listener.Dispose();
    }

    private static void ThreeFamilies(PrometheusWriter w)
    {
        w.Family("tend_instance_cpu_seconds_total", MetricType.Counter, "cpu");
        w.Sample(1.5, ("app", "web"), ("instance_number", "0"));
        w.Family("tend_instance_up", MetricType.Gauge, "up");
        w.Sample(1, ("app", "web"), ("instance_number", "0"));
        w.Sample(0, ("app", "web"), ("instance_number", "1"));
        w.Family("tend_probe_duration_seconds", MetricType.Histogram, "probes");
        w.Histogram([0.1, 1], [2, 1, 0], 0.75, ("app", "web"), ("role", "live"));
    }

    [Fact]
    public void MeterBridge_Families_PublishedWithOtelNamesUnitsAndLabels()
    {
        using var bridge = new MeterBridge(ThreeFamilies, "1.2.3", e => throw e);
        using var reader = new Reader(bridge);

        var seen = reader.Collect();

        Assert.IsType<ObservableCounter<double>>(reader.Instrument("tend.instance.cpu.seconds"));
        Assert.Equal("s", reader.Instrument("tend.instance.cpu.seconds").Unit);
        Assert.Equal("cpu", reader.Instrument("tend.instance.cpu.seconds").Description);
        Assert.IsType<ObservableGauge<double>>(reader.Instrument("tend.instance.up"));
        Assert.Null(reader.Instrument("tend.instance.up").Unit);
        Assert.Equal("1.2.3", bridge.Meter.Version);

        var cpu = Assert.Single(seen, s => s.Instrument == "tend.instance.cpu.seconds");
        Assert.Equal(1.5, cpu.Value);
        Assert.Equal(new Dictionary<string, string> { ["app"] = "web", ["instance_number"] = "0" }, cpu.Tags);
        Assert.Equal([1.0, 0.0], seen.Where(s => s.Instrument == "tend.instance.up").OrderBy(s => s.Tags["instance_number"]).Select(s => s.Value));

        // The histogram as its Prometheus parts: cumulative buckets by le, sum, count.
        Assert.Equal(
            [("0.1", 2.0), ("1", 3.0), ("+Inf", 3.0)],
            seen.Where(s => s.Instrument == "tend.probe.duration.seconds.bucket").Select(s => (s.Tags["le"], s.Value)));
        Assert.Equal(0.75, Assert.Single(seen, s => s.Instrument == "tend.probe.duration.seconds.sum").Value);
        Assert.Equal("s", reader.Instrument("tend.probe.duration.seconds.sum").Unit);
        Assert.Equal(3, Assert.Single(seen, s => s.Instrument == "tend.probe.duration.seconds.count").Value);
        Assert.Equal("live", Assert.Single(seen, s => s.Instrument == "tend.probe.duration.seconds.count").Tags["role"]);
    }

    [Fact]
    public void MeterBridge_Collection_RunsOnePassForAllInstruments()
    {
        int passes = 0;
        using var bridge = new MeterBridge(w => { passes++; w.Family("tend_a", MetricType.Gauge, "a"); w.Sample(passes); w.Family("tend_b", MetricType.Gauge, "b"); w.Sample(passes); }, null, e => throw e);
        using var reader = new Reader(bridge);
        Assert.Equal(1, passes); // the constructor's, to learn the families

        var first = reader.Collect();
        var second = reader.Collect();

        Assert.Equal(3, passes);
        // Both instruments of one collection read the same pass, and the next collection a new one.
        Assert.Equal([2.0, 2.0], first.Select(s => s.Value));
        Assert.Equal([3.0, 3.0], second.Select(s => s.Value));
    }

    [Fact]
    public async Task MeterBridge_FamilyAppearingLater_IsPublishedAndExported()
    {
        int passes = 0;
        using var bridge = new MeterBridge(w =>
        {
            passes++;
            w.Family("tend_a", MetricType.Gauge, "a");
            w.Sample(1);
            if (passes < 3) return;
            w.Family("tend_late_total", MetricType.Counter, "late");
            w.Sample(7, ("app", "web"));
        }, null, e => throw e);
        using var reader = new Reader(bridge);
        reader.Collect();
        reader.Collect(); // the pass that first sees tend_late_total

        await Eventually.TrueAsync(() => reader.Has("tend.late"), "tend.late published");
        var seen = reader.Collect();

        Assert.Equal(7, Assert.Single(seen, s => s.Instrument == "tend.late").Value);
    }

    [Fact]
    public void MeterBridge_PassThrows_ReportsAndExportsThePreviousPass()
    {
        int passes = 0;
        var errors = new List<Exception>();
        using var bridge = new MeterBridge(w =>
        {
            if (++passes == 3) throw new InvalidOperationException("boom");
            w.Family("tend_a", MetricType.Gauge, "a");
            w.Sample(passes);
        }, null, errors.Add);
        using var reader = new Reader(bridge);

        Assert.Equal(2, Assert.Single(reader.Collect()).Value);
        Assert.Equal(2, Assert.Single(reader.Collect()).Value);
        Assert.Equal("boom", Assert.Single(errors).Message);
        Assert.Equal(4, Assert.Single(reader.Collect()).Value);
    }

    [Theory]
    [InlineData("tend_instance_cpu_seconds_total", MetricType.Counter, "tend.instance.cpu.seconds", "s")]
    [InlineData("tend_log_bytes_total", MetricType.Counter, "tend.log.bytes", "By")]
    [InlineData("tend_instance_restarts_total", MetricType.Counter, "tend.instance.restarts", null)]
    [InlineData("tend_instance_resident_memory_bytes", MetricType.Gauge, "tend.instance.resident.memory.bytes", "By")]
    [InlineData("process_start_time_seconds", MetricType.Gauge, "process.start.time.seconds", "s")]
    [InlineData("tend_app_instances_desired", MetricType.Gauge, "tend.app.instances.desired", null)]
    public void OtelNames_PrometheusFamily_TranslatedByRule(string family, MetricType type, string name, string? unit)
    {
        Assert.Equal(name, OtelNames.Name(family, type));
        Assert.Equal(unit, OtelNames.Unit(family, type));
    }
}
