using Tend.Health;
using Tend.Metrics;

namespace Tend.Tests.Metrics;

public sealed class PrometheusWriterTests
{
    private static string Write(Action<PrometheusWriter> write)
    {
        var text = new StringWriter();
        write(new PrometheusWriter(text));
        return text.ToString();
    }

    [Fact]
    public void Metrics_Writer_EscapesLabelValuesAndHelp()
    {
        string text = Write(w =>
        {
            w.Family("tend_x", MetricType.Gauge, "back\\slash and\nnewline, \"quotes\" kept");
            w.Sample(1, ("app", "a\\b\"c\nd"));
        });
        Assert.Equal(
            "# HELP tend_x back\\\\slash and\\nnewline, \"quotes\" kept\n" +
            "# TYPE tend_x gauge\n" +
            "tend_x{app=\"a\\\\b\\\"c\\nd\"} 1\n", text);
    }

    // (The tests run in globalization-invariant mode, so another culture cannot be set here; the
    // writer formats with CultureInfo.InvariantCulture explicitly either way.)
    [Fact]
    public void Metrics_Writer_NumbersAsPrometheusSpellsThem()
    {
        string text = Write(w =>
        {
            w.Family("tend_y_seconds", MetricType.Gauge, "y");
            w.Sample(1.5);
            w.Sample(double.NaN, ("k", "nan"));
            w.Sample(double.PositiveInfinity, ("k", "inf"));
            w.Sample(1234567890123);
            w.Sample(1e-7, ("k", "tiny"));
        });
        Assert.Contains("tend_y_seconds 1.5\n", text);
        Assert.Contains("tend_y_seconds{k=\"nan\"} NaN\n", text);
        Assert.Contains("tend_y_seconds{k=\"inf\"} +Inf\n", text);
        Assert.Contains("tend_y_seconds 1234567890123\n", text);
        Assert.Contains("tend_y_seconds{k=\"tiny\"} 1E-07\n", text);
    }

    [Fact]
    public void Metrics_Writer_CounterWithoutTotalSuffix_Throws()
    {
        Assert.Throws<ArgumentException>(() => Write(w => w.Family("tend_restarts", MetricType.Counter, "no suffix")));
        string text = Write(w => { w.Family("tend_restarts_total", MetricType.Counter, "ok"); w.Sample(3); });
        Assert.Contains("# TYPE tend_restarts_total counter\ntend_restarts_total 3\n", text);
    }

    [Fact]
    public void Metrics_Writer_FamilyTwice_Throws() =>
        Assert.Throws<InvalidOperationException>(() => Write(w =>
        {
            w.Family("tend_a", MetricType.Gauge, "a");
            w.Family("tend_a", MetricType.Gauge, "a");
        }));

    [Fact]
    public void Metrics_Histogram_CumulativeBucketsSumCountAndInf()
    {
        var h = new Histogram([0.1, 1]);
        h.Observe(0.05);
        h.Observe(0.1);  // on a bound: counts in that bucket (le means "less or equal")
        h.Observe(0.5);
        h.Observe(20);
        long[] counts = new long[3];
        double sum = h.CopyTo(counts);
        string text = Write(w =>
        {
            w.Family("tend_probe_duration_seconds", MetricType.Histogram, "d");
            w.Histogram(h.Bounds, counts, sum, ("app", "web"));
        });
        Assert.Equal(
            "# HELP tend_probe_duration_seconds d\n" +
            "# TYPE tend_probe_duration_seconds histogram\n" +
            "tend_probe_duration_seconds_bucket{app=\"web\",le=\"0.1\"} 2\n" +
            "tend_probe_duration_seconds_bucket{app=\"web\",le=\"1\"} 3\n" +
            "tend_probe_duration_seconds_bucket{app=\"web\",le=\"+Inf\"} 4\n" +
            "tend_probe_duration_seconds_sum{app=\"web\"} 20.65\n" +
            "tend_probe_duration_seconds_count{app=\"web\"} 4\n", text);
    }

    [Fact]
    public void Metrics_ProbeMetrics_CountFailuresAndDurations()
    {
        var probe = new ProbeMetrics();
        probe.Observe(new ProbeResult(true, TimeSpan.FromMilliseconds(3), "ok"));
        probe.Observe(new ProbeResult(false, TimeSpan.FromSeconds(2), "HTTP 503"));
        long[] counts = new long[Histogram.DefaultBounds.Length + 1];
        probe.Duration.CopyTo(counts);
        Assert.Equal(1, probe.Failures);
        Assert.Equal(2, counts.Sum());
        Assert.Equal(1, counts[1]); // 3ms: in le=0.005
    }

    [Theory]
    [InlineData("exit code 3", "crash")]
    [InlineData("killed by SIGSEGV (core dumped)", "crash")]
    [InlineData("exit code 0", "exit")]
    [InlineData("liveness: http http://x failed 3 times in a row: HTTP 503", "liveness")]
    [InlineData("watchdog: no WATCHDOG=1 within 10s", "watchdog")]
    [InlineData("ready_timeout: not ready within 30s", "ready_timeout")]
    [InlineData("max_memory: 300 bytes > 200", "max_memory")]
    [InlineData("restart requested", "manual")]
    [InlineData("reload", "reload")]
    [InlineData("something new", "other")]
    public void Metrics_RestartCause_FromRecordedReason(string reason, string cause) =>
        Assert.Equal(cause, RestartCause.Of(reason));

    [Fact]
    public void Metrics_InstanceCpu_MonotonicAcrossRunsAndShrinkingGroups()
    {
        var m = new InstanceMetrics();
        m.OnCpuTicks(100, 50);
        m.OnCpuTicks(100, 30); // a member of the group exited, taking its time with it
        Assert.Equal(50, m.CpuTicks);
        m.OnCpuTicks(200, 10); // the next run
        Assert.Equal(60, m.CpuTicks);
    }

    [Fact]
    public void Metrics_Writer_SnapshotSinkGetsWhatTheTextGets()
    {
        static void Write(PrometheusWriter w)
        {
            w.Family("tend_a_total", MetricType.Counter, "a");
            w.Sample(2, ("app", "web"));
            w.Family("tend_empty", MetricType.Gauge, "no samples");
            w.Family("tend_h_seconds", MetricType.Histogram, "h");
            w.Histogram([0.5], [1, 2], 3.5, ("role", "live"));
        }
        var text = new StringWriter();
        Write(new PrometheusWriter(text));
        var snapshot = new MetricSnapshot();
        Write(new PrometheusWriter(snapshot));

        Assert.Equal(
            text.ToString().Split('\n').Where(l => l.StartsWith("# TYPE ", StringComparison.Ordinal)).Select(l => l.Split(' ')[2]),
            snapshot.Families.Select(f => f.Name));
        Assert.Equal([MetricType.Counter, MetricType.Gauge, MetricType.Histogram], snapshot.Families.Select(f => f.Type));
        MetricSample a = Assert.Single(snapshot.Families[0].Samples);
        Assert.Equal((2.0, ("app", "web")), (a.Value, Assert.Single(a.Labels)));
        Assert.Empty(snapshot.Families[1].Samples);
        MetricSample h = Assert.Single(snapshot.Families[2].Samples);
        Assert.Equal(3.5, h.Value);
        Assert.Equal([1L, 2L], h.Buckets!.Counts);
        Assert.Equal([0.5], h.Buckets.Bounds);
    }

    [Fact]
    public void Metrics_Writer_ChecksFamiliesWhateverTheSink()
    {
        var w = new PrometheusWriter(new MetricSnapshot());
        Assert.Throws<ArgumentException>(() => w.Family("tend_a", MetricType.Counter, "a"));
        w.Family("tend_b", MetricType.Gauge, "b");
        Assert.Throws<InvalidOperationException>(() => w.Family("tend_b", MetricType.Gauge, "b"));
        Assert.Throws<InvalidOperationException>(() => w.Histogram([1], [0, 0], 0));
    }
}
