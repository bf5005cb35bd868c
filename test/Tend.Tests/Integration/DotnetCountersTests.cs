using System.Text.Json;
using Tend.Api;
using Tend.Tests.Support;

namespace Tend.Tests.Integration;

/// <summary>
/// .NET runtime counters read by a real daemon from real apps: testchild (a .NET program) in its
/// churn mode, and /bin/sleep (not .NET). The daemon reports every second here
/// (TEND_DOTNET_COUNTERS_INTERVAL=1) so the tests do not wait five seconds per step.
/// </summary>
public sealed class DotnetCountersTests : IAsyncLifetime
{
    private static readonly Dictionary<string, string> s_fastCounters = new() { ["TEND_DOTNET_COUNTERS_INTERVAL"] = "1" };
    private readonly TendHome _home = new();

    public Task InitializeAsync() => Task.CompletedTask;
    public async Task DisposeAsync() => await _home.DisposeAsync();

    private async Task StartAsync(bool withPlain)
    {
        string config = _home.WriteConfig($"""
            apps:
              busy:
                cmd: {TendHome.Child}
                args: [--churn, --sleep]
            {(withPlain ? "  plain:\n    cmd: /bin/sleep\n    args: [\"600\"]\n" : "")}
            """);
        CliResult start = await _home.RunAsync(["start", config], s_fastCounters);
        Assert.True(start.ExitCode == 0, start.ToString());
    }

    private async Task<InstanceDetail> DetailAsync(string app) => (await _home.DescribeAsync(app)).Instances.Single();

    [Fact]
    public async Task Describe_DotnetInstance_ShowsRuntimeCountersThatGrow_AndMetricsHaveItsSeries()
    {
        await StartAsync(withPlain: true);

        InstanceDetail first = await Eventually.ReturnsAsync(() => DetailAsync("busy"),
            d => d.Dotnet is { GcHeapBytes: > 0, ThreadPoolThreads: >= 1, WorkingSetBytes: > 0 }, "busy's first .NET counters");
        DotnetCountersInfo before = first.Dotnet!;
        InstanceDetail later = await Eventually.ReturnsAsync(() => DetailAsync("busy"),
            d => d.Dotnet is { } c && c.Gen0Collections > before.Gen0Collections && c.Exceptions > before.Exceptions
                && c.AllocatedBytes > before.AllocatedBytes && c.SampledAt > before.SampledAt,
            "collections, exceptions and allocations to grow");
        DotnetCountersInfo now = later.Dotnet!;
        Assert.True(now.AllocationRateBytesPerSecond > 0);
        Assert.True(now.LockContentions > 0);
        Assert.InRange(now.TimeInGcPercent, 0, 100);
        Assert.Equal(first.Pid, later.Pid);

        // The JSON API names the object "dotnet", with snake_case fields.
        CliResult json = await _home.OkAsync("describe", "busy", "--json");
        using (JsonDocument doc = JsonDocument.Parse(json.Stdout))
        {
            JsonElement dotnet = doc.RootElement.GetProperty("instances")[0].GetProperty("dotnet");
            Assert.True(dotnet.GetProperty("gc_heap_bytes").GetInt64() > 0);
            Assert.True(dotnet.TryGetProperty("sampled_at", out _));
            Assert.True(dotnet.TryGetProperty("gen0_collections", out _));
        }

        // Not .NET: no counters, and nothing about it in the log beyond a debug line.
        InstanceDetail plain = await DetailAsync("plain");
        Assert.Equal("online", plain.Status);
        Assert.Null(plain.Dotnet);

        string text = (await _home.OkAsync("describe", "busy")).Stdout;
        Assert.Contains(".NET runtime (sampled ", text);
        Assert.Contains("gc heap", text);
        Assert.Contains("collections", text);

        PingInfo ping = JsonSerializer.Deserialize((await _home.OkAsync("ping", "--json")).Stdout, TendJsonContext.Default.PingInfo)!;
        string url = ping.HealthUrl!.TrimEnd('/');
        string metrics = await Eventually.ReturnsAsync(() => MetricsTests.ScrapeAsync(url),
            t => MetricsTests.Value(t, "tend_dotnet_exceptions_total", "app=\"busy\"") > 0, "busy's .NET series");
        string busy = "app=\"busy\"", zero = "instance_number=\"0\"";
        Assert.True(MetricsTests.Value(metrics, "tend_dotnet_gc_heap_bytes", busy, zero) > 0);
        Assert.True(MetricsTests.Value(metrics, "tend_dotnet_gc_collections_total", busy, zero, "generation=\"gen0\"") > 0);
        Assert.NotNull(MetricsTests.Value(metrics, "tend_dotnet_gc_collections_total", busy, zero, "generation=\"gen2\""));
        Assert.True(MetricsTests.Value(metrics, "tend_dotnet_gc_allocated_bytes_total", busy, zero) > 0);
        Assert.InRange(MetricsTests.Value(metrics, "tend_dotnet_gc_pause_time_ratio", busy, zero)!.Value, 0, 1);
        Assert.True(MetricsTests.Value(metrics, "tend_dotnet_threadpool_threads", busy, zero) >= 1);
        Assert.True(MetricsTests.Value(metrics, "tend_dotnet_threadpool_queue_length", busy, zero) >= 0);
        Assert.True(MetricsTests.Value(metrics, "tend_dotnet_lock_contentions_total", busy, zero) > 0);
        Assert.True(MetricsTests.Value(metrics, "tend_dotnet_working_set_bytes", busy, zero) > 0);
        Assert.True(MetricsTests.Value(metrics, "tend_dotnet_last_sample_time_seconds", busy, zero) > 0);
        Assert.DoesNotContain(metrics.Split('\n'), l => l.StartsWith("tend_dotnet_", StringComparison.Ordinal) && l.Contains("app=\"plain\"", StringComparison.Ordinal));

        var (code, stdout, stderr) = await MetricsTests.RunAsync(MetricsTests.Require("promtool"), ["check", "metrics"], metrics);
        Assert.True(code == 0, $"promtool check metrics exited {code}:\n{stdout}\n{stderr}");

        string log = await File.ReadAllTextAsync(Path.Combine(_home.Dir, "daemon.log"));
        Assert.Contains("busy#0 pid " + first.Pid + ": reading .NET runtime counters", log);
        string[] failed = [.. log.Split('\n').Where(l => l.Contains("counter session failed", StringComparison.Ordinal))];
        Assert.True(failed.Length == 0, string.Join("\n", failed));
        Assert.DoesNotContain("plain#0 pid " + plain.Pid + ": reading", log);
    }

    [Fact]
    public async Task Daemon_WatchingDotnetInstance_AppRunsOnAndDaemonStopsCleanly()
    {
        await StartAsync(withPlain: false);
        InstanceDetail watched = await Eventually.ReturnsAsync(() => DetailAsync("busy"), d => d.Dotnet is not null, "busy's .NET counters");
        // A few more intervals of being watched.
        DateTimeOffset since = watched.Dotnet!.SampledAt;
        InstanceDetail later = await Eventually.ReturnsAsync(() => DetailAsync("busy"),
            d => d.Dotnet is { } c && c.SampledAt > since.AddSeconds(2), "three more samples");

        Assert.Equal("online", later.Status);
        Assert.Equal(watched.Pid, later.Pid);
        Assert.Equal(0, later.Restarts);
        Assert.Empty(later.RecentExits);

        // Stopping the app ends its session with it; a new run is watched afresh.
        await _home.OkAsync("stop", "busy");
        InstanceDetail stopped = await DetailAsync("busy");
        Assert.Null(stopped.Dotnet);
        ExitRecord exit = Assert.Single(stopped.RecentExits);
        Assert.Equal(watched.Pid, exit.Pid);
        Assert.NotEqual("SIGKILL", exit.ExitSignal); // it went on SIGTERM, not SIGKILL after kill_timeout

        await _home.OkAsync("restart", "busy");
        InstanceDetail again = await Eventually.ReturnsAsync(() => DetailAsync("busy"), d => d.Dotnet is not null && d.Pid != watched.Pid, "the new run's counters");

        int daemon = _home.DaemonPid!.Value;
        CliResult kill = await _home.RunAsync(["kill"], null, TimeSpan.FromSeconds(60));
        Assert.True(kill.ExitCode == 0, kill.ToString());
        await Eventually.TrueAsync(() => !ProcFs.IsRunning(daemon) && !ProcFs.IsRunning(again.Pid!.Value), "the daemon and the app to be gone");
        string log = await File.ReadAllTextAsync(Path.Combine(_home.Dir, "daemon.log"));
        string[] bad = [.. log.Split('\n').Where(l => l.Contains("counter session failed", StringComparison.Ordinal) || l.Contains("\"level\":\"error\"", StringComparison.Ordinal))];
        Assert.True(bad.Length == 0, string.Join("\n", bad));
    }
}
