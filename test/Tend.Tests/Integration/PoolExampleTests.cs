using System.Net.Http.Json;
using System.Text.Json;
using Tend.Tests.Support;

namespace Tend.Tests.Integration;

/// <summary>
/// examples/pool-aspnet under a real daemon: an ASP.NET app whose renders run in a Tend.Pool of worker
/// processes. The workers are the app's own children: a lost one costs one request, a rolling
/// replacement costs none, and `tend stop` of the app leaves none behind.
/// </summary>
public sealed class PoolExampleTests : IAsyncLifetime
{
    private readonly TendHome _home = new();

    public Task InitializeAsync() => Task.CompletedTask;
    public async Task DisposeAsync() => await _home.DisposeAsync();

    private sealed record Render(string Hash, int Pid, int Worker, string Version);
    private sealed record WorkerRow(int WorkerId, int Pid, string State, string Version);

    [Fact]
    public async Task PoolExample_UnderTend_WorkersServeSurviveAKillReplaceAndStopWithTheApp()
    {
        int port = FreePorts.Next();
        string dll = Path.Combine(TestPaths.PoolDemoDir, "bin", TestPaths.Configuration, "net10.0", "PoolDemo.dll");
        Assert.True(File.Exists(dll), $"{dll} is not built");
        string config = _home.WriteConfig($$"""
            apps:
              web:
                cmd: dotnet
                args: [{{dll}}]
                env: { PORT: "{{port}}", POOL_WORKERS: "2" }
                ready: { notify: true, ready_timeout: 90s }
                kill_timeout: 20s
            """);
        CliResult start = await _home.RunAsync("start", config, "--wait-ready");
        Assert.True(start.ExitCode == 0, start.ToString());
        int appPid = (await _home.ListAsync()).Single().Pid!.Value;
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(60) };

        Render first = (await http.GetFromJsonAsync<Render>("/render?text=hello&rounds=10", JsonSerializerOptions.Web))!;
        WorkerRow[] workers = (await http.GetFromJsonAsync<WorkerRow[]>("/admin/workers", JsonSerializerOptions.Web))!;
        Assert.Equal(2, workers.Length);
        Assert.Contains(first.Pid, workers.Select(w => w.Pid));
        Assert.NotEqual(appPid, first.Pid);
        Assert.Equal(appPid, ProcFs.ReadParentPid(first.Pid));

        // kill -9 of a worker: the app and the pool go on, with a replacement.
        System.Diagnostics.Process.Start("kill", ["-9", first.Pid.ToString()]).WaitForExit();
        await Eventually.ReturnsAsync(async () => (await http.GetFromJsonAsync<WorkerRow[]>("/admin/workers", JsonSerializerOptions.Web))!,
            rows => rows.Length == 2 && rows.All(r => r.State == "active" && r.Pid != first.Pid), "a replacement for the killed worker");
        Assert.Equal(appPid, (await _home.ListAsync()).Single().Pid);

        // A rolling replacement under requests: none fails.
        Task<Render?>[] load = [.. Enumerable.Range(0, 40).Select(i => http.GetFromJsonAsync<Render>($"/render?text=r{i}&rounds=2000", JsonSerializerOptions.Web))];
        using var replace = await http.PostAsync("/admin/workers/replace", null);
        Assert.True(replace.IsSuccessStatusCode, await replace.Content.ReadAsStringAsync());
        Render?[] rendered = await Task.WhenAll(load);
        Assert.All(rendered, r => Assert.NotNull(r));
        WorkerRow[] replaced = (await http.GetFromJsonAsync<WorkerRow[]>("/admin/workers", JsonSerializerOptions.Web))!;
        Assert.All(replaced, r => Assert.Equal("v2", r.Version));
        Assert.Equal("v2", (await http.GetFromJsonAsync<Render>("/render?text=x", JsonSerializerOptions.Web))!.Version);

        // tend stop of the app: no worker outlives it.
        int[] workerPids = [.. replaced.Select(r => r.Pid)];
        CliResult stop = await _home.RunAsync("stop", "web");
        Assert.True(stop.ExitCode == 0, stop.ToString());
        foreach (int pid in workerPids) await Eventually.TrueAsync(() => !ProcFs.IsRunning(pid), $"worker {pid} gone with the app");
        Assert.DoesNotContain(_home.LiveProcesses(), pid => pid != _home.DaemonPid);

        string log = await File.ReadAllTextAsync(Path.Combine(_home.LogsDir, "web-0.out.log"));
        Assert.Contains("render worker 1 ready", log); // the workers' own output, through the app's logger
    }
}
