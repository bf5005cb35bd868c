using System.Net;
using System.Text.Json;
using Tend.Api;
using Tend.Tests.Health;
using Tend.Tests.Support;

namespace Tend.Tests.Integration;

/// <summary>
/// OTLP push of the daemon's metrics (docs/metrics.md#otlp-export): a real daemon, configured by
/// the standard OTEL_* variables in its environment, exporting over http/protobuf to an in-test
/// receiver on 127.0.0.1; the body read by a small protobuf reader. And the other side: without
/// the variables, or with a bad one, no OpenTelemetry assembly is even mapped into the daemon.
/// </summary>
public sealed class OtlpTests : IAsyncLifetime
{
    private readonly TendHome _home = new();
    private readonly HttpTestServer _receiver = new(_ => HttpTestServer.Status(200));

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await _home.DisposeAsync();
        await _receiver.DisposeAsync();
    }

    /// <summary>The environment of the daemon under test: the test process's OTEL_* cleared, then <paramref name="set"/>.</summary>
    private static Dictionary<string, string> Env(params (string Name, string Value)[] set)
    {
        var env = new Dictionary<string, string>();
        foreach (string name in Environment.GetEnvironmentVariables().Keys.Cast<string>().Where(n => n.StartsWith("OTEL_", StringComparison.Ordinal)))
            env[name] = "";
        foreach (var (name, value) in set) env[name] = value;
        return env;
    }

    private Dictionary<string, string> ExportEnv(params (string Name, string Value)[] more) => Env([
        ("OTEL_EXPORTER_OTLP_ENDPOINT", $"http://127.0.0.1:{_receiver.Port}"),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
        ("OTEL_METRIC_EXPORT_INTERVAL", "200"),
        .. more]);

    /// <summary>Starts the daemon (with <paramref name="env"/>) and one app, web, probed for liveness; waits until it is online.</summary>
    private async Task StartWebAsync(Dictionary<string, string> env)
    {
        string config = _home.WriteConfig($"""
            apps:
              web:
                cmd: {TendHome.Child}
                args: [--echo, hello, --sleep]
                live: {"{"} exec: "true", interval: 200ms {"}"}
            """);
        CliResult started = await _home.RunAsync(["start", config], env);
        Assert.True(started.ExitCode == 0, $"tend start failed: {started}");
        await _home.WaitForAsync(l => l.Single(i => i.Name == "web").Status == "online", "web online");
    }

    private string DaemonMaps()
    {
        int pid = _home.DaemonPid ?? throw new InvalidOperationException("no daemon.pid");
        return File.ReadAllText($"/proc/{pid}/maps");
    }

    private List<JsonElement> DaemonLog() =>
        [.. File.ReadAllLines(Path.Combine(_home.Dir, "daemon.log"))
            .Where(l => l.StartsWith('{'))
            .Select(l => JsonDocument.Parse(l).RootElement.Clone())];

    private async Task<string> ScrapeAsync()
    {
        PingInfo ping = JsonSerializer.Deserialize((await _home.OkAsync("ping", "--json")).Stdout, TendJsonContext.Default.PingInfo)!;
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        return await http.GetStringAsync(ping.HealthUrl!.TrimEnd('/') + "/metrics");
    }

    /// <summary>
    /// The OTLP names of the families of a /metrics exposition that have samples (OpenTelemetry
    /// sends no metric without points), by the rule docs/metrics.md states — written out here
    /// independently of OtelNames, so a change to the rule has to change this test too.
    /// </summary>
    private static HashSet<string> ExpectedOtlpNames(string exposition)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        string[] lines = exposition.Split('\n');
        foreach (string line in lines.Where(l => l.StartsWith("# TYPE ", StringComparison.Ordinal)))
        {
            string[] parts = line.Split(' ');
            string family = parts[2], type = parts[3];
            bool sampled = lines.Any(l => !l.StartsWith('#') && (l.StartsWith(family + "{", StringComparison.Ordinal) || l.StartsWith(family + " ", StringComparison.Ordinal)
                || l.StartsWith(family + "_bucket{", StringComparison.Ordinal)));
            if (!sampled) continue;
            string dotted = (type == "counter" ? family[..^"_total".Length] : family).Replace('_', '.');
            if (type == "histogram") names.UnionWith([dotted + ".bucket", dotted + ".sum", dotted + ".count"]);
            else names.Add(dotted);
        }
        return names;
    }

    [Fact]
    public async Task Otlp_HttpProtobuf_PushesEverySeriesOfMetricsWithItsLabels()
    {
        await StartWebAsync(ExportEnv());
        // Wait for a scrape that has the liveness histogram, then for an export carrying every
        // family that scrape had (exports are 200 ms apart, so a later one will).
        string text = await Eventually.ReturnsAsync(ScrapeAsync,
            t => t.Contains("tend_probe_duration_seconds_count{app=\"web\",instance_number=\"0\",role=\"live\"}", StringComparison.Ordinal), "a liveness check counted");
        HashSet<string> expected = ExpectedOtlpNames(text);
        Assert.Contains("tend.instance.up", expected);
        Assert.Contains("tend.build.info", expected);

        bool complete(OtlpMetrics e) => expected.IsSubsetOf(e.Metrics.Select(m => m.Name));
        List<OtlpMetrics> exports = await Eventually.ReturnsAsync(
            () => _receiver.Received.Where(r => r.Path == "/v1/metrics").Select(r => OtlpMetricsReader.Read(r.Body)).ToList(),
            exports => exports.Any(complete),
            "an export with every family of /metrics: " + string.Join(", ", expected));
        OtlpMetrics export = exports.Last(complete);

        HttpTestRequest request = _receiver.Received[0];
        Assert.Equal("POST", request.Method);
        Assert.Equal("application/x-protobuf", request.Headers["Content-Type"]);
        // Metrics only: no traces or logs from the daemon.
        Assert.All(_receiver.Received, r => Assert.Equal("/v1/metrics", r.Path));

        Assert.Equal("tend", export.Resource["service.name"]);
        Assert.Equal(_home.Dir, export.Resource["tend.home"]);
        Assert.Equal("Tend", export.Scope);

        OtlpMetric up = Assert.Single(export.Metrics, m => m.Name == "tend.instance.up");
        Assert.Equal("gauge", up.Kind);
        OtlpPoint web = Assert.Single(up.Points, p => p.Attributes.GetValueOrDefault("app") == "web");
        Assert.Equal("0", web.Attributes["instance_number"]);
        Assert.Equal(1, web.Value);

        OtlpMetric cpu = Assert.Single(export.Metrics, m => m.Name == "tend.instance.cpu.seconds");
        Assert.Equal(("sum", true, "s"), (cpu.Kind, cpu.Monotonic, cpu.Unit));
        Assert.Equal("By", Assert.Single(export.Metrics, m => m.Name == "tend.instance.resident.memory.bytes").Unit);

        OtlpMetric lines = Assert.Single(export.Metrics, m => m.Name == "tend.log.lines");
        Assert.True(Assert.Single(lines.Points, p => p.Attributes["app"] == "web" && p.Attributes["stream"] == "stdout").Value >= 1);

        OtlpMetric buckets = Assert.Single(export.Metrics, m => m.Name == "tend.probe.duration.seconds.bucket");
        OtlpPoint inf = Assert.Single(buckets.Points, p => p.Attributes["le"] == "+Inf");
        Assert.Equal("live", inf.Attributes["role"]);
        Assert.Equal(inf.Value, Assert.Single(Assert.Single(export.Metrics, m => m.Name == "tend.probe.duration.seconds.count").Points).Value);

        // The positive control for the tests below: with export on, the SDK is mapped in.
        Assert.Contains("OpenTelemetry.dll", DaemonMaps());
        Assert.Contains(DaemonLog(), e => e.GetProperty("event_id").GetInt32() == 2110);
    }

    [Fact]
    public async Task Otlp_MetricsVariables_EndpointAsIsHeadersAndResourceFromTheSdk()
    {
        // What the SDK reads itself (UseOtlpExporter): the metrics-specific endpoint, taken as the
        // full URL (no /v1/metrics appended) and winning over the base one; headers; the service
        // name and resource attributes.
        await StartWebAsync(ExportEnv(
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:1"),
            ("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", $"http://127.0.0.1:{_receiver.Port}/otlp/metrics"),
            ("OTEL_EXPORTER_OTLP_HEADERS", "x-tend-test=yes,authorization=Bearer%20t0ken"),
            ("OTEL_SERVICE_NAME", "edge-tend"),
            ("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment=test")));

        HttpTestRequest request = (await Eventually.ReturnsAsync(() => _receiver.Received.FirstOrDefault(), r => r is not null, "an export"))!;
        Assert.Equal("/otlp/metrics", request.Path);
        Assert.Equal("yes", request.Headers["x-tend-test"]);
        Assert.Equal("Bearer t0ken", request.Headers["authorization"]);
        OtlpMetrics export = OtlpMetricsReader.Read(request.Body);
        Assert.Equal("edge-tend", export.Resource["service.name"]);
        Assert.Equal("test", export.Resource["deployment.environment"]);
        // The log line names where the endpoint came from and never shows the headers.
        JsonElement on = Assert.Single(DaemonLog(), e => e.GetProperty("event_id").GetInt32() == 2110);
        Assert.Equal("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", on.GetProperty("variable").GetString());
        Assert.DoesNotContain("t0ken", File.ReadAllText(Path.Combine(_home.Dir, "daemon.log")), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Otlp_CollectorUnreachable_SaidInDaemonLogAndDaemonRunsOn()
    {
        int closed = FreePorts.Next(); // nothing listens there
        await StartWebAsync(ExportEnv(("OTEL_EXPORTER_OTLP_ENDPOINT", $"http://127.0.0.1:{closed}")));

        // The SDK says it on its EventSource only; the daemon puts it in its log, held back after the first.
        JsonElement failed = await Eventually.ReturnsAsync(
            () => DaemonLog().FirstOrDefault(e => e.GetProperty("event_id").GetInt32() == 2114),
            e => e.ValueKind == JsonValueKind.Object, "an export failure in daemon.log");
        Assert.Equal("error", failed.GetProperty("level").GetString());
        Assert.StartsWith("OTLP export: OpenTelemetry-Exporter-OpenTelemetryProtocol: ", failed.GetProperty("message").GetString());
        Assert.Contains($"127.0.0.1:{closed}", failed.GetProperty("detail").GetString());
        Assert.DoesNotContain("\n", failed.GetProperty("message").GetString());
        Assert.Contains("tend_instance_up{app=\"web\",instance_number=\"0\"} 1\n", await ScrapeAsync());
    }

    [Fact]
    public async Task Otlp_NotConfigured_LoadsNoOpenTelemetryAndSendsNothing()
    {
        // Everything but an endpoint: export stays off.
        await StartWebAsync(Env(("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"), ("OTEL_METRIC_EXPORT_INTERVAL", "200")));
        await ScrapeAsync();

        // Not loaded, so nothing can have been sent: no assertion on time passing is needed.
        Assert.DoesNotContain("OpenTelemetry", DaemonMaps(), StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(DaemonLog(), e => e.GetProperty("message").GetString()!.Contains("OTLP", StringComparison.Ordinal));
        Assert.Empty(_receiver.Received);
    }

    [Theory]
    [InlineData("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json")]
    [InlineData("OTEL_EXPORTER_OTLP_ENDPOINT", "localhost:4318")]
    [InlineData("OTEL_METRIC_EXPORT_INTERVAL", "5s")]
    public async Task Otlp_BadVariable_LoggedByNameAndDaemonRunsWithoutExport(string variable, string value)
    {
        await StartWebAsync(ExportEnv((variable, value)));

        JsonElement error = Assert.Single(DaemonLog(), e => e.GetProperty("event_id").GetInt32() == 2111);
        Assert.Equal("error", error.GetProperty("level").GetString());
        Assert.Equal(variable, error.GetProperty("variable").GetString());
        Assert.StartsWith($"OTLP export off: {variable}: \"{value}\" is not ", error.GetProperty("message").GetString());
        // The daemon runs on, without export and without the SDK.
        Assert.Contains("tend_instance_up{app=\"web\",instance_number=\"0\"} 1\n", await ScrapeAsync());
        Assert.DoesNotContain("OpenTelemetry", DaemonMaps(), StringComparison.OrdinalIgnoreCase);
        Assert.Empty(_receiver.Received);
    }

    [Fact]
    public void Otlp_Cli_DoesNotDependOnOpenTelemetry()
    {
        // The CLI runs the daemon from daemon/ beside it; OpenTelemetry is the daemon's alone.
        string cliDir = Path.GetDirectoryName(TestPaths.Cli)!;
        Assert.DoesNotContain("OpenTelemetry", File.ReadAllText(Path.Combine(cliDir, "tend.deps.json")), StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(cliDir, "OpenTelemetry.dll")));
        Assert.True(File.Exists(Path.Combine(cliDir, "daemon", "OpenTelemetry.dll")), "the daemon's copy beside the CLI lacks OpenTelemetry.dll");
    }
}
