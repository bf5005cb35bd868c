using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Tend.Api;
using Tend.Metrics;
using Tend.Tests.Support;

namespace Tend.Tests.Integration;

/// <summary>
/// GET /metrics of a real daemon running real apps: the series and their labels, the exposition
/// checked by promtool, and scraped by a real Prometheus server. promtool and prometheus come from
/// Debian's prometheus package, which .ci/run installs; a machine without them fails these tests
/// rather than skipping them, so a CI that forgot to install them cannot go green.
/// </summary>
public sealed class MetricsTests : IAsyncLifetime
{
    private static readonly TimeSpan s_processTimeout = TimeSpan.FromSeconds(60);
    private readonly TendHome _home = new();

    public Task InitializeAsync() => Task.CompletedTask;
    public async Task DisposeAsync() => await _home.DisposeAsync();

    /// <summary>web: ready by READY=1 and probed for liveness; crashy: exits 3 once, then stays up. Returns the health URL.</summary>
    private async Task<string> StartAppsAsync()
    {
        string once = Path.Combine(_home.Dir, "crashed-once");
        string config = _home.WriteConfig($"""
            apps:
              web:
                cmd: {TendHome.Child}
                args: [--echo, "hello \"world\"", --notify-ready-after, "0", --sleep]
                ready: {"{"} notify: true {"}"}
                live: {"{"} exec: "true", interval: 200ms {"}"}
              crashy:
                cmd: {TendHome.Child}
                args: [--echo-err, oops, --once, "{once}", --exit-after, 100ms, --exit-code, "3", --sleep]
                restart: always
            """);
        await _home.OkAsync("start", config);
        await _home.WaitForAsync(l =>
            l.Single(i => i.Name == "web").Ready
            && l.Single(i => i.Name == "crashy") is { Restarts: >= 1, Status: "online" },
            "web ready and crashy restarted once");
        PingInfo ping = JsonSerializer.Deserialize((await _home.OkAsync("ping", "--json")).Stdout, TendJsonContext.Default.PingInfo)!;
        Assert.NotNull(ping.HealthUrl);
        return ping.HealthUrl!.TrimEnd('/');
    }

    internal static async Task<string> ScrapeAsync(string url)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        using HttpResponseMessage response = await http.GetAsync(url + "/metrics");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(PrometheusWriter.ContentType, response.Content.Headers.ContentType!.ToString().Replace(" ", "").Replace(";", "; "));
        return await response.Content.ReadAsStringAsync();
    }

    /// <summary>The value of the one sample of <paramref name="name"/> carrying all <paramref name="labels"/>; null when none.</summary>
    internal static double? Value(string exposition, string name, params string[] labels)
    {
        var found = exposition.Split('\n')
            .Where(l => l.StartsWith(name + "{", StringComparison.Ordinal) || l.StartsWith(name + " ", StringComparison.Ordinal))
            .Where(l => labels.All(kv => l.Contains(kv, StringComparison.Ordinal)))
            .ToList();
        Assert.True(found.Count <= 1, $"{name} {string.Join(",", labels)} matches {found.Count} samples:\n{string.Join("\n", found)}");
        return found.Count == 0 ? null : double.Parse(found[0][(found[0].LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture);
    }

    [Fact]
    public async Task Metrics_Scrape_HasInstanceAppLogProbeAndDaemonSeries()
    {
        string url = await StartAppsAsync();
        // Lines are counted as the log writer reads them; wait for the echo and one liveness check to be in.
        string text = await Eventually.ReturnsAsync(() => ScrapeAsync(url),
            t => Value(t, "tend_log_lines_total", "app=\"web\"", "stream=\"stdout\"") >= 1
                && Value(t, "tend_log_lines_total", "app=\"crashy\"", "stream=\"stderr\"") >= 2
                && Value(t, "tend_probe_duration_seconds_count", "app=\"web\"", "role=\"live\"") >= 1,
            "log lines and a liveness check counted");

        string web = "app=\"web\"", crashy = "app=\"crashy\"", first = "instance_number=\"0\"";
        Assert.Equal(1, Value(text, "tend_instance_up", web, first));
        Assert.Equal(1, Value(text, "tend_instance_ready", web, first));
        Assert.Equal(1, Value(text, "tend_instance_up", crashy, first));
        Assert.Equal(1, Value(text, "tend_instance_restarts_total", crashy, first, "reason=\"crash\""));
        Assert.Null(Value(text, "tend_instance_restarts_total", web));
        Assert.Equal(3, Value(text, "tend_instance_last_exit_code", crashy, first));
        Assert.Null(Value(text, "tend_instance_last_exit_code", web));
        Assert.True(Value(text, "tend_instance_resident_memory_bytes", web, first) is null or >= 0);
        Assert.True(Value(text, "tend_instance_open_fds", web, first) >= 3);
        Assert.True(Value(text, "tend_instance_threads", web, first) >= 1);
        Assert.True(Value(text, "tend_instance_cpu_seconds_total", web, first) >= 0);
        double start = Value(text, "tend_instance_start_time_seconds", web, first)!.Value;
        Assert.InRange(start, DateTimeOffset.UtcNow.AddMinutes(-10).ToUnixTimeSeconds(), DateTimeOffset.UtcNow.AddMinutes(1).ToUnixTimeSeconds());

        Assert.Equal(1, Value(text, "tend_app_instances_desired", web));
        Assert.Equal(1, Value(text, "tend_app_instances_running", crashy));
        Assert.Equal(1, Value(text, "tend_app_health", web, "state=\"healthy\""));
        Assert.Equal(0, Value(text, "tend_app_health", web, "state=\"critical\""));

        // "oops" once per run, two runs.
        Assert.True(Value(text, "tend_log_lines_total", crashy, "stream=\"stderr\"") >= 2);
        Assert.True(Value(text, "tend_log_bytes_total", crashy, "stream=\"stderr\"") >= 10);
        Assert.Equal(0, Value(text, "tend_log_dropped_lines_total", web, "stream=\"stdout\""));
        Assert.Equal(0, Value(text, "tend_probe_failures_total", web, "role=\"live\""));
        Assert.Contains("tend_probe_duration_seconds_bucket{app=\"web\",instance_number=\"0\",role=\"live\",le=\"+Inf\"}", text);

        Assert.True(Value(text, "process_cpu_seconds_total") > 0);
        Assert.True(Value(text, "process_resident_memory_bytes") > 0);
        Assert.True(Value(text, "process_open_fds") > 0);
        Assert.True(Value(text, "tend_api_requests_total", "route=\"/v1/start\"", "code=\"200\"", "method=\"POST\"") >= 1);
        Assert.Equal(1, Value(text, "tend_build_info"));
    }

    [Fact]
    public async Task Metrics_ControlSocket_ServesMetricsToo()
    {
        await StartAppsAsync();
        using var http = new HttpClient(new SocketsHttpHandler
        {
            ConnectCallback = async (_, ct) =>
            {
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                await socket.ConnectAsync(new UnixDomainSocketEndPoint(Path.Combine(_home.Dir, ApiRoutes.SocketFileName)), ct);
                return new NetworkStream(socket, ownsSocket: true);
            },
        }) { Timeout = TimeSpan.FromSeconds(10) };
        string text = await http.GetStringAsync("http://tend/metrics");
        Assert.Contains("tend_instance_up{app=\"web\",instance_number=\"0\"} 1\n", text);
    }

    [Fact]
    public async Task Metrics_Exposition_PassesPromtool()
    {
        string url = await StartAppsAsync();
        await Eventually.ReturnsAsync(() => ScrapeAsync(url),
            t => Value(t, "tend_probe_duration_seconds_count", "app=\"web\"", "role=\"live\"") >= 1, "a liveness check counted");
        string text = await ScrapeAsync(url);

        string promtool = Require("promtool");
        var (code, stdout, stderr) = await RunAsync(promtool, ["check", "metrics"], text);
        Assert.True(code == 0, $"promtool check metrics exited {code}:\n{stdout}\n{stderr}\n--- exposition\n{text}");
    }

    [Fact]
    public async Task Metrics_PrometheusServer_ScrapesAndAnswersQuery()
    {
        string prometheus = Require("prometheus");
        string url = await StartAppsAsync();
        string target = new Uri(url).Authority;
        Assert.StartsWith("127.0.0.1:", target);

        string dir = Directory.CreateTempSubdirectory("tend-prometheus-").FullName;
        int port = FreePorts.Next();
        string config = Path.Combine(dir, "prometheus.yml");
        await File.WriteAllTextAsync(config, $"""
            global:
              scrape_interval: 1s
              scrape_timeout: 1s
            scrape_configs:
              - job_name: tend
                metrics_path: /metrics
                static_configs:
                  - targets: ["{target}"]
            """);
        var psi = new ProcessStartInfo(prometheus)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string a in (string[])[$"--config.file={config}", $"--storage.tsdb.path={Path.Combine(dir, "data")}",
            $"--web.listen-address=127.0.0.1:{port}"]) psi.ArgumentList.Add(a);
        var log = new StringBuilder();
        using var server = Process.Start(psi)!;
        server.OutputDataReceived += (_, e) => { lock (log) log.AppendLine(e.Data); };
        server.ErrorDataReceived += (_, e) => { lock (log) log.AppendLine(e.Data); };
        server.BeginOutputReadLine();
        server.BeginErrorReadLine();
        try
        {
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
            string query = $"http://127.0.0.1:{port}/api/v1/query?query=" + Uri.EscapeDataString("tend_instance_up");
            JsonElement result = await Eventually.ReturnsAsync(async () =>
            {
                Assert.False(server.HasExited, "prometheus exited:\n" + Snapshot(log));
                try
                {
                    using JsonDocument doc = JsonDocument.Parse(await http.GetStringAsync(query));
                    return doc.RootElement.GetProperty("data").GetProperty("result").Clone();
                }
                catch (HttpRequestException) { return default; }
                catch (TaskCanceledException) { return default; }
            }, r => r.ValueKind == JsonValueKind.Array && r.GetArrayLength() >= 2, "prometheus to return tend_instance_up for both apps",
                TimeSpan.FromSeconds(90));

            var series = result.EnumerateArray().ToDictionary(
                s => s.GetProperty("metric").GetProperty("app").GetString()!,
                s => s.GetProperty("value")[1].GetString());
            Assert.Equal("1", series["web"]);
            Assert.Equal("1", series["crashy"]);
            JsonElement any = result[0].GetProperty("metric");
            Assert.Equal("tend", any.GetProperty("job").GetString());
            // Prometheus's own target labels: ours do not collide with them (no exported_instance).
            Assert.Equal(target, any.GetProperty("instance").GetString());
            Assert.Equal("0", any.GetProperty("instance_number").GetString());
        }
        finally
        {
            if (!server.HasExited) server.Kill(entireProcessTree: true);
            using (var cts = new CancellationTokenSource(s_processTimeout)) await server.WaitForExitAsync(cts.Token);
            Directory.Delete(dir, recursive: true);
        }
    }

    private static string Snapshot(StringBuilder log) { lock (log) return log.ToString(); }


    /// <summary>The path of <paramref name="program"/> on PATH; fails the test (never skips it) when missing.</summary>
    internal static string Require(string program)
    {
        foreach (string dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            string path = Path.Combine(dir, program);
            if (File.Exists(path)) return path;
        }
        Assert.Fail($"{program} is not installed: it comes with Debian's prometheus package (apt-get install -y prometheus; .ci/run installs it)");
        return "";
    }

    internal static async Task<(int Code, string Stdout, string Stderr)> RunAsync(string program, string[] args, string stdin)
    {
        var psi = new ProcessStartInfo(program)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string a in args) psi.ArgumentList.Add(a);
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.StandardInput.WriteAsync(stdin);
        process.StandardInput.Close();
        using var cts = new CancellationTokenSource(s_processTimeout);
        try { await process.WaitForExitAsync(cts.Token); }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{program} {string.Join(' ', args)} did not finish");
        }
        return (process.ExitCode, await stdout, await stderr);
    }
}
