using System.Text.Json;
using Tend.Alerts;
using Tend.Api;
using Tend.Tests.Support;

namespace Tend.Tests.Integration;

/// <summary>
/// Self-healing on real processes (docs/alerts.md#self-healing): a dependent held while its database
/// is down (restarts paused, uncounted, one alert for the outage), a breaker that pauses a crashing
/// app and closes after a half-open attempt, and exit codes that are never retried.
/// </summary>
public sealed class SelfHealingTests : IAsyncLifetime
{
    private readonly TendHome _home = new();

    public Task InitializeAsync() => Task.CompletedTask;
    public async Task DisposeAsync() => await _home.DisposeAsync();

    [Fact]
    public async Task DatabaseKilled_TheHeldDependentStopsRestarting_OneAlert_ThenRecoversByItself()
    {
        await using var receiver = new WebhookReceiver().Start();
        int port = FreePorts.Next();
        string config = _home.WriteConfig($$"""
            apps:
              db:
                cmd: {{TendHome.Child}}
                args: [--serve-port, "{{port}}", --sleep]
                restart: never
                ready: { tcp: "127.0.0.1:{{port}}", interval: 200ms }
              api:
                cmd: {{TendHome.Child}}
                args: [--needs-port, "{{port}}", --sleep]
                backoff: { initial: 50ms, max: 100ms }
                depends_on:
                  db: { condition: ready, while_down: hold }
            alerts:
              - { name: down, match: "*", on: crash, webhook: "{{receiver.Url()}}", resolve_after: 1s }
            """);
        await _home.OkAsync("start", config);
        await _home.WaitForAsync(l => l.Single(i => i.Name == "api").Status == "online", "api online");

        await _home.OkAsync("signal", "SIGKILL", "db");

        InstanceInfo[] held = await _home.WaitForAsync(l => l.Single(i => i.Name == "api").StatusReason?.StartsWith("held:") == true, "api held");
        InstanceInfo api = held.Single(i => i.Name == "api");
        Assert.Equal("waiting", api.Status);
        Assert.Contains("db is down", api.StatusReason);
        await Task.Delay(TimeSpan.FromSeconds(3));
        InstanceInfo stillHeld = (await _home.ListAsync()).Single(i => i.Name == "api");
        Assert.Equal(("waiting", 0), (stillHeld.Status, stillHeld.Restarts));
        Assert.Null(stillHeld.Pid);

        // One outage, one message: the api's own crash is explained by the db's and muted.
        await Eventually.TrueAsync(() => receiver.Received.Count >= 1, "the db's alert");
        AlertsInfo alerts = JsonSerializer.Deserialize((await _home.OkAsync("alerts", "--json")).Stdout, TendJsonContext.Default.AlertsInfo)!;
        Assert.Equal(["api", "db"], alerts.Active.Select(a => a.App).Order());
        Assert.Equal("down (db#0)", alerts.Active.Single(a => a.App == "api").InhibitedBy);
        JsonElement firing = JsonDocument.Parse(receiver.Received.Single().Body).RootElement;
        Assert.Equal("db", firing.GetProperty("alerts")[0].GetProperty("labels").GetProperty("app").GetString());

        // The database comes back: the api resumes by itself, its restart count still 0.
        await _home.OkAsync("start", "db");
        InstanceInfo[] back = await _home.WaitForAsync(l => l.Single(i => i.Name == "api").Status == "online", "api online again");
        Assert.Equal(0, back.Single(i => i.Name == "api").Restarts);
        await Eventually.TrueAsync(() => receiver.Received.Count >= 2, "the db's resolve");
        await Task.Delay(TimeSpan.FromSeconds(2));
        Assert.Equal(["firing", "resolved"], receiver.Received.Select(d => JsonDocument.Parse(d.Body).RootElement.GetProperty("status").GetString()));
        CliResult events = await _home.OkAsync("events", "--no-follow");
        Assert.Contains("held: db is down", events.Stdout);
        Assert.Contains("db is ready again", events.Stdout);
    }

    [Fact]
    public async Task WhileDownStop_TheDependentIsStoppedWithItsDependency_AndStartedWhenItIsBack()
    {
        int port = FreePorts.Next();
        string config = _home.WriteConfig($$"""
            apps:
              db:
                cmd: {{TendHome.Child}}
                args: [--serve-port, "{{port}}", --sleep]
                restart: never
                ready: { tcp: "127.0.0.1:{{port}}", interval: 200ms }
              worker:
                cmd: {{TendHome.Child}}
                args: [--sleep]
                depends_on:
                  db: { condition: ready, while_down: stop }
            """);
        await _home.OkAsync("start", config);
        int firstPid = (await _home.WaitForAsync(l => l.Single(i => i.Name == "worker").Status == "online", "worker online"))
            .Single(i => i.Name == "worker").Pid!.Value;

        await _home.OkAsync("stop", "db");

        // The worker does not need the db to crash first: it is stopped and held.
        InstanceInfo held = (await _home.WaitForAsync(l => l.Single(i => i.Name == "worker").StatusReason?.StartsWith("held:") == true, "worker held"))
            .Single(i => i.Name == "worker");
        Assert.Null(held.Pid);
        Assert.Contains("db is down", held.StatusReason);

        await _home.OkAsync("start", "db");
        InstanceInfo back = (await _home.WaitForAsync(l => l.Single(i => i.Name == "worker").Status == "online", "worker back"))
            .Single(i => i.Name == "worker");
        Assert.NotEqual(firstPid, back.Pid);
        Assert.Equal(0, back.Restarts);
        using HttpClient api = _home.ApiClient();
        string metrics = await api.GetStringAsync("/metrics");
        Assert.Contains("tend_instance_held{app=\"worker\",instance_number=\"0\"} 0", metrics);
    }

    [Fact]
    public async Task Breaker_OpensAfterMaxFailures_ThenAHalfOpenAttemptThatStaysUpClosesIt()
    {
        string flag = Path.Combine(_home.Dir, "fixed");
        string config = _home.WriteConfig($$"""
            apps:
              flaky:
                cmd: /bin/sh
                args: [-c, "test -f {{flag}} && exec sleep 600; exit 3"]
                min_uptime: 500ms
                backoff: { initial: 50ms, max: 50ms }
                breaker: { max_failures: 3, window: 1m, break: 3s, max_break: 1m }
            """);
        await _home.OkAsync("start", config);

        InstanceInfo open = (await _home.WaitForAsync(l => l.Single().StatusReason?.StartsWith("breaker open") == true, "the breaker open")).Single();
        Assert.Equal("waiting", open.Status);
        Assert.Contains("3 failures within 1m", open.StatusReason);
        int restartsWhenOpen = open.Restarts;
        // Open: nothing runs, nothing is counted.
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        Assert.Equal(restartsWhenOpen, (await _home.ListAsync()).Single().Restarts);

        File.WriteAllText(flag, "");
        await _home.WaitForAsync(l => l.Single().Status == "online", "the half-open attempt", TimeSpan.FromSeconds(20));
        await Eventually.ReturnsAsync(() => _home.OkAsync("events", "--no-follow"), r => r.Stdout.Contains("breaker closed"), "the breaker closed");
        CliResult events = await _home.OkAsync("events", "--no-follow");
        Assert.Contains("breaker open: 3 failures within 1m", events.Stdout);
        Assert.DoesNotContain("errored", events.Stdout);
    }

    [Fact]
    public async Task NoRetry_AnExitCodeListedIsNeverRestarted()
    {
        string config = _home.WriteConfig("""
            apps:
              misconfigured:
                cmd: /bin/sh
                args: [-c, "exit 78"]
                no_retry: [78]
            """);
        await _home.OkAsync("start", config);

        InstanceInfo stopped = (await _home.WaitForAsync(l => l.Single().Status == "stopped", "stopped")).Single();
        Assert.Equal(0, stopped.Restarts);
        Assert.Contains("no_retry", stopped.StatusReason);
    }

    [Fact]
    public async Task RestartSchedule_ReloadsTheAppOnItsCronSchedule()
    {
        string config = _home.WriteConfig($$"""
            apps:
              nightly:
                cmd: {{TendHome.Child}}
                args: [--sleep]
                restart_schedule: "*/3 * * * * *"
            """);
        await _home.OkAsync("start", config);
        int first = (await _home.WaitForAsync(l => l.Single().Status == "online", "online")).Single().Pid!.Value;

        InstanceInfo replaced = (await _home.WaitForAsync(l => l.Single().Pid is int p && p != first && l.Single().Status == "online", "a new process after the scheduled reload", TimeSpan.FromSeconds(30))).Single();
        Assert.NotEqual(first, replaced.Pid);
        CliResult events = await _home.OkAsync("events", "--no-follow");
        Assert.Contains("restart_schedule \"*/3 * * * * *\": reloading", events.Stdout);
        Assert.Contains("reload_done", events.Stdout);
    }
}
