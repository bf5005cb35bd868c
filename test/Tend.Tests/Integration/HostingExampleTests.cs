using System.Net;
using System.Net.Sockets;
using Tend.Api;
using Tend.Tests.Support;

namespace Tend.Tests.Integration;

/// <summary>
/// examples/aspnet-ready, a real ASP.NET Core app using Tend.Hosting, under a real daemon: ready
/// through NOTIFY_SOCKET only after its warm-up, its status text shown, restarted by its liveness
/// probe when it turns sick, and reporting STOPPING=1 on `tend stop`.
/// </summary>
public sealed class HostingExampleTests : IAsyncLifetime
{
    private readonly TendHome _home = new();

    public Task InitializeAsync() => Task.CompletedTask;
    public async Task DisposeAsync() => await _home.DisposeAsync();


    [Fact]
    public async Task AspNetExample_ReadyThroughNotify_LivenessRestart_StoppingOnStop()
    {
        Assert.True(File.Exists(TestPaths.ReadyDemo), $"{TestPaths.ReadyDemo} is not built");
        int port = FreePorts.Next();
        string config = _home.WriteConfig($"""
            apps:
              web:
                cmd: {TestPaths.ReadyDemo}
                env: {"{"} PORT: "{port}", WARMUP_MS: "1500" {"}"}
                ready: {"{"} notify: true, ready_timeout: 60s {"}"}
                live: {"{"} http: "http://127.0.0.1:{port}/healthz", interval: 500ms, failure_threshold: 2 {"}"}
                watchdog: 10s
                kill_timeout: 10s
            """);

        await _home.OkAsync("start", config);
        InstanceInfo early = (await _home.ListAsync()).Single();
        Assert.False(early.Ready, "ready before the warm-up was over");

        InstanceInfo ready = (await _home.WaitForAsync(l => l.Single().Ready, "the example ready", TimeSpan.FromSeconds(60))).Single();
        Assert.Equal(early.Pid, ready.Pid);
        Assert.Equal($"serving on :{port}", ready.StatusText);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        Assert.Equal("hello from instance 0\n", await http.GetStringAsync($"http://127.0.0.1:{port}/"));

        // Sick: /healthz answers 503, the liveness probe fails twice, the instance is restarted.
        (await http.PostAsync($"http://127.0.0.1:{port}/sick", null)).EnsureSuccessStatusCode();
        InstanceInfo restarted = (await _home.WaitForAsync(l => l.Single().Restarts == 1 && l.Single().Ready,
            "restarted by liveness and ready again", TimeSpan.FromSeconds(60))).Single();
        Assert.NotEqual(ready.Pid, restarted.Pid);
        InstanceDetail detail = (await _home.DescribeAsync("web")).Instances.Single();
        Assert.StartsWith($"liveness: http http://127.0.0.1:{port}/healthz failed 2 times in a row: HTTP 503", detail.LastRestartReason);
        Assert.Equal(0, detail.Notify!.Foreign);
        Assert.Equal(0, detail.Notify.Malformed);

        await _home.OkAsync("stop", "web");
        string log = await File.ReadAllTextAsync(Path.Combine(_home.Dir, "daemon.log"));
        Assert.Contains("web#0 reports it is stopping (STOPPING=1)", log);
        // The stop was graceful: the host exited on SIGTERM, not on the SIGKILL after kill_timeout.
        Assert.Equal(0, (await _home.DescribeAsync("web")).Instances.Single().RecentExits.Last().ExitCode);
    }
}
