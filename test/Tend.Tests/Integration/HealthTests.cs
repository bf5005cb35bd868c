using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Tend.Api;
using Tend.Tests.Support;

namespace Tend.Tests.Integration;

/// <summary>
/// Readiness and liveness on real processes through the CLI: NOTIFY_SOCKET datagrams from the test
/// child, probes against listeners this test owns (so it decides when they answer), the watchdog,
/// and ready_timeout.
/// </summary>
public sealed class HealthTests : IAsyncLifetime
{
    private readonly TendHome _home = new();

    public Task InitializeAsync() => Task.CompletedTask;
    public async Task DisposeAsync() => await _home.DisposeAsync();

    private static InstanceInfo Web(InstanceInfo[] list) => list.Single(i => i.Name == "web");

    [Fact]
    public async Task Notify_ReadyAfterDelay_ReadyOnlyThen_StatusShown()
    {
        string config = _home.WriteConfig($"""
            apps:
              web:
                cmd: {TendHome.Child}
                args: [--notify-status, warming up, --notify-ready-after, "1500", --sleep]
                ready: {"{"} notify: true {"}"}
            """);

        await _home.OkAsync("start", config);
        InstanceInfo early = Web(await _home.ListAsync());
        Assert.Equal("online", early.Status);
        Assert.False(early.Ready, "ready before READY=1 was sent");

        InstanceInfo ready = Web(await _home.WaitForAsync(l => Web(l).Ready, "web ready"));
        Assert.Equal(early.Pid, ready.Pid);
        Assert.Equal("warming up", ready.StatusText);
        CliResult list = await _home.OkAsync("list");
        Assert.Contains("warming up", list.Stdout);

        AppInfo app = await _home.DescribeAsync("web");
        NotifyInfo notify = app.Instances.Single().Notify!;
        Assert.Equal(2, notify.Accepted);
        Assert.Equal(0, notify.Malformed);
        Assert.Equal(0, notify.Foreign);
        Assert.Contains("web#0 is ready: READY=1", await File.ReadAllTextAsync(Path.Combine(_home.Dir, "daemon.log")));
    }

    [Fact]
    public async Task StartWaitReady_ReturnsOnlyOnceReady_AndFailsWhenNeverReady()
    {
        string config = _home.WriteConfig($"""
            apps:
              web:
                cmd: {TendHome.Child}
                args: [--notify-ready-after, "800", --sleep]
                ready: {"{"} notify: true {"}"}
              never:
                cmd: {TendHome.Child}
                args: [--sleep]
                ready: {"{"} notify: true {"}"}
            """);

        CliResult ok = await _home.OkAsync("start", config, "--only", "web", "--wait-ready");
        Assert.Contains("ready: web", ok.Stdout);
        Assert.True(Web(await _home.ListAsync()).Ready, "start --wait-ready returned before web was ready");

        CliResult late = await _home.RunAsync("start", config, "--only", "never", "--wait-ready", "--wait-timeout", "1s");
        Assert.Equal(1, late.ExitCode);
        Assert.Contains("not ready within 1s: never#0 (online)", late.Stderr);
        Assert.Equal("online", (await _home.ListAsync()).Single(i => i.Name == "never").Status); // waiting gave up, the app did not

        CliResult usage = await _home.RunAsync("start", config, "--wait-timeout", "1s");
        Assert.Equal(2, usage.ExitCode);
        Assert.Contains("--wait-timeout goes with --wait-ready", usage.Stderr);
    }

    [Fact]
    public async Task ReadyTimeout_IsAFailedStart_RestartedThenErrored()
    {
        string config = _home.WriteConfig($"""
            apps:
              web:
                cmd: {TendHome.Child}
                args: [--sleep]
                ready: {"{"} notify: true, ready_timeout: 500ms {"}"}
                restart: on-failure
                max_restarts: 1
                min_uptime: 100ms
                kill_timeout: 1s
            """);

        await _home.OkAsync("start", config);

        // Runs of 500 ms outlast min_uptime, yet a failed start is unstable: two of them are a crash loop.
        InstanceInfo web = Web(await _home.WaitForAsync(l => Web(l).Status == "errored", "web errored after failed starts"));
        Assert.Equal(1, web.Restarts);
        InstanceDetail detail = (await _home.DescribeAsync("web")).Instances.Single();
        Assert.Contains("crash loop", detail.StatusReason);
        Assert.Contains("ready_timeout: not ready within 500ms", detail.StatusReason);
        // Nothing at all arrived on NOTIFY_SOCKET: the reason says so and where to read (UseSystemd() does nothing under Tend).
        Assert.All(detail.RecentExits, e => Assert.StartsWith("ready_timeout: not ready within 500ms; the app never sent anything on NOTIFY_SOCKET", e.Reason));
        Assert.All(detail.RecentExits, e => Assert.Contains("docs/health.md#net-apps", e.Reason));
    }

    [Fact]
    public async Task NotifyReadiness_AppSpokeButNeverSaidReady_ReasonHasNoNotifyHint()
    {
        string config = _home.WriteConfig($"""
            apps:
              web:
                cmd: {TendHome.Child}
                args: [--notify-status, warming, --sleep]
                ready: {"{"} notify: true, ready_timeout: 500ms {"}"}
                restart: never
                kill_timeout: 1s
            """);
        await _home.OkAsync("start", config);
        await _home.WaitForAsync(l => Web(l).Status == "stopped", "web stopped after its failed start");
        InstanceDetail detail = (await _home.DescribeAsync("web")).Instances.Single();
        Assert.Equal("ready_timeout: not ready within 500ms", Assert.Single(detail.RecentExits).Reason);
    }

    [Fact]
    public async Task HttpReadiness_FollowsTheListener_WithoutRestarting()
    {
        await using var server = new TestHttpServer();
        string config = _home.WriteConfig($"""
            apps:
              web:
                cmd: {TendHome.Child}
                args: [--sleep]
                ready: {"{"} http: "{server.Url}health", interval: 200ms, failure_threshold: 2 {"}"}
            """);
        server.Status = 503;

        await _home.OkAsync("start", config);
        await Eventually.TrueAsync(() => server.Requests >= 2, "two readiness checks");
        InstanceInfo first = Web(await _home.ListAsync());
        Assert.False(first.Ready, "ready while the probe answers 503");

        server.Status = 200;
        InstanceInfo ready = Web(await _home.WaitForAsync(l => Web(l).Ready, "ready once the probe answers 200"));

        server.Status = 503;
        InstanceInfo unready = Web(await _home.WaitForAsync(l => !Web(l).Ready, "not ready again after 503s"));
        Assert.Equal(first.Pid, ready.Pid);
        Assert.Equal(first.Pid, unready.Pid);
        Assert.Equal(0, unready.Restarts);

        ProbeInfo probe = (await _home.DescribeAsync("web")).Instances.Single().Probes!.Single();
        Assert.Equal("ready", probe.Role);
        Assert.False(probe.Passing);
        Assert.Equal("HTTP 503", probe.LastDetail);
        Assert.NotNull(probe.LastLatencyMs);
        Assert.Contains("web#0 is not ready", await File.ReadAllTextAsync(Path.Combine(_home.Dir, "daemon.log")));
    }

    [Fact]
    public async Task Describe_ProbeRecent_CarriesTheFailedChecksThenThePass()
    {
        // interval 1h: the ready probe checks every 500 ms until it first passes, then not again for an
        // hour, so the history the test reads is settled: a few 503s, then one 200.
        await using var server = new TestHttpServer();
        string config = _home.WriteConfig($"""
            apps:
              web:
                cmd: {TendHome.Child}
                args: [--sleep]
                ready: {"{"} http: "{server.Url}health", interval: 1h {"}"}
            """);
        server.Status = 503;

        await _home.OkAsync("start", config);
        await Eventually.TrueAsync(() => server.Requests >= 3, "three failed readiness checks");
        server.Status = 200;
        await _home.WaitForAsync(l => Web(l).Ready, "ready once the probe answers 200");

        ProbeInfo probe = (await _home.DescribeAsync("web")).Instances.Single().Probes!.Single();
        IReadOnlyList<ProbeCheck> recent = probe.Recent!;
        Assert.Equal(Math.Min(probe.Checks, 30), recent.Count);
        Assert.True(recent.Count >= 4, $"{recent.Count} checks kept");
        Assert.Equal(new ProbeCheck(recent[^1].At, true, recent[^1].LatencyMs, "HTTP 200"), recent[^1]);
        Assert.All(recent.Take(recent.Count - 1), c => Assert.Equal((false, "HTTP 503"), (c.Success, c.Detail)));
        Assert.Equal(recent.Select(c => c.At).Order(), recent.Select(c => c.At));
        Assert.Equal(probe.LastAt, recent[^1].At);

        CliResult json = await _home.OkAsync("describe", "web", "--json");
        Assert.Contains("\"recent\":[{\"at\":", json.Stdout);
        CliResult text = await _home.OkAsync("describe", "web");
        Assert.Contains($"ready  recent: {new string('✗', recent.Count - 1)}✓ (last {recent.Count}, {recent.Count - 1} failed; newest failure ", text.Stdout);
        Assert.Contains(" HTTP 503)", text.Stdout);
    }

    [Fact]
    public async Task TcpExecAndLogReadiness_BecomeReadyWhenTheirCheckPasses()
    {
        using var port = new TcpListener(IPAddress.Loopback, 0);
        port.Start();
        int tcpPort = ((IPEndPoint)port.LocalEndpoint).Port;
        port.Stop(); // closed for now: refused
        string flag = Path.Combine(_home.Dir, "ready.flag");
        string config = _home.WriteConfig($"""
            apps:
              tcp:
                cmd: {TendHome.Child}
                args: [--sleep]
                ready: {"{"} tcp: "127.0.0.1:{tcpPort}", interval: 200ms {"}"}
              exec:
                cmd: {TendHome.Child}
                args: [--sleep]
                ready: {"{"} exec: "test -f {flag}", interval: 200ms {"}"}
              log:
                run: sh -c 'sleep 3; echo "server listening on 8080"; exec sleep 600'
                ready: {"{"} log: 'listening on \d+' {"}"}
            """);

        await _home.OkAsync("start", config);
        InstanceInfo[] list = await _home.ListAsync();
        Assert.All(list, i => Assert.False(i.Ready, $"{i.Name} ready before its check could pass"));

        await _home.WaitForAsync(l => l.Single(i => i.Name == "log").Ready, "log ready after its line");
        Assert.False((await _home.ListAsync()).Single(i => i.Name == "tcp").Ready);
        using var listener = new TcpListener(IPAddress.Loopback, tcpPort);
        listener.Start();
        await File.WriteAllTextAsync(flag, "");
        await _home.WaitForAsync(l => l.All(i => i.Ready), "tcp and exec ready");
        ProbeInfo log = (await _home.DescribeAsync("log")).Instances.Single().Probes!.Single();
        Assert.StartsWith("matched: server listening on 8080", log.LastDetail);
    }

    [Fact]
    public async Task Liveness_FailingProbe_RestartsWithReason()
    {
        await using var server = new TestHttpServer();
        string config = _home.WriteConfig($"""
            apps:
              web:
                cmd: {TendHome.Child}
                args: [--sleep]
                live: {"{"} http: "{server.Url}healthz", interval: 200ms, failure_threshold: 2 {"}"}
                kill_timeout: 1s
            """);

        await _home.OkAsync("start", config);
        InstanceInfo before = Web(await _home.ListAsync());
        await Eventually.TrueAsync(() => server.Requests >= 3, "liveness checks while healthy");
        Assert.Equal(before.Pid, Web(await _home.ListAsync()).Pid);

        server.Status = 500;
        InstanceInfo after = Web(await _home.WaitForAsync(l => Web(l).Restarts >= 1 && Web(l).Status == "online", "restarted by liveness"));
        server.Status = 200;

        Assert.NotEqual(before.Pid, after.Pid);
        InstanceDetail detail = (await _home.DescribeAsync("web")).Instances.Single();
        Assert.StartsWith("liveness: http " + server.Url + "healthz failed 2 times in a row: HTTP 500", detail.LastRestartReason);
        Assert.StartsWith("liveness:", detail.RecentExits.First().Reason);
    }

    [Fact]
    public async Task StatusText_SentInALoop_ShownLatest_LoggedAtMostOncePerSecond()
    {
        string script = _home.WriteConfig("""
            import os, socket, time
            s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            target = os.environ["NOTIFY_SOCKET"]
            for i in range(1500):
                s.sendto(f"STATUS=step {i}".encode(), target)
                time.sleep(0.001)
            s.sendto(b"READY=1", target)
            time.sleep(600)
            """, "spam.py");
        string config = _home.WriteConfig($"""
            apps:
              web:
                cmd: /usr/bin/python3
                args: [{script}]
                ready: {"{"} notify: true {"}"}
            """);
        await _home.OkAsync("start", config);
        await _home.WaitForAsync(l => Web(l).Ready, "web ready after its status loop");
        Assert.Equal("step 1499", Web(await _home.ListAsync()).StatusText);
        int logged = File.ReadLines(Path.Combine(_home.Dir, "daemon.log")).Count(l => l.Contains("\"event\":\"StatusText\""));
        Assert.InRange(logged, 1, 10); // 1,500 datagrams over ~2 s
    }

    [Fact]
    public async Task Ping_HealthPortTaken_SaysWhichAddressAndWhy_AndHowToMoveIt()
    {
        using var squatter = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        squatter.Start();
        int port = ((IPEndPoint)squatter.LocalEndpoint).Port;

        var env = new Dictionary<string, string> { ["TEND_HEALTH"] = $"127.0.0.1:{port}" };
        CliResult r = await _home.RunAsync(["ping"], env);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("health off", r.Stdout);
        Assert.Contains($"cannot listen on 127.0.0.1:{port}", r.Stdout);
        Assert.Contains("TEND_HEALTH=", r.Stdout);

        PingInfo ping = JsonSerializer.Deserialize((await _home.OkAsync("ping", "--json")).Stdout, TendJsonContext.Default.PingInfo)!;
        Assert.Null(ping.HealthUrl);
        Assert.Contains($"127.0.0.1:{port}", ping.HealthError);
    }

    [Fact]
    public async Task Watchdog_MissedPings_RestartsWithReason()
    {
        string config = _home.WriteConfig($"""
            apps:
              web:
                cmd: {TendHome.Child}
                args: [--notify-watchdog, "100", --notify-watchdog-stop-after, "1000", --sleep]
                watchdog: 500ms
                kill_timeout: 1s
            """);

        await _home.OkAsync("start", config);
        InstanceInfo before = Web(await _home.ListAsync());
        InstanceInfo after = Web(await _home.WaitForAsync(l => Web(l).Restarts >= 1 && Web(l).Pid is not null, "restarted by the watchdog"));

        Assert.NotEqual(before.Pid, after.Pid);
        InstanceDetail detail = (await _home.DescribeAsync("web")).Instances.Single();
        Assert.Equal("watchdog: no WATCHDOG=1 within 500ms", detail.LastRestartReason);
        Assert.True(detail.Notify!.Accepted >= 5, $"only {detail.Notify.Accepted} pings were taken");
    }

    [Fact]
    public async Task Watchdog_SigstoppedChild_IsRestarted()
    {
        string config = _home.WriteConfig($"""
            apps:
              web:
                cmd: {TendHome.Child}
                args: [--notify-watchdog, "100", --sleep]
                watchdog: 1s
                kill_timeout: 500ms
            """);

        await _home.OkAsync("start", config);
        InstanceInfo before = Web(await _home.ListAsync());
        await Task.Delay(1500); // feeds its watchdog all along: still the same process
        Assert.Equal(before.Pid, Web(await _home.ListAsync()).Pid);

        await _home.OkAsync("signal", "SIGSTOP", "web");
        InstanceInfo after = Web(await _home.WaitForAsync(l => Web(l).Restarts >= 1 && Web(l).Pid is not null, "a stopped process restarted"));

        Assert.NotEqual(before.Pid, after.Pid);
        InstanceDetail detail = (await _home.DescribeAsync("web")).Instances.Single();
        Assert.StartsWith("watchdog:", detail.LastRestartReason);
        Assert.Equal("SIGKILL", detail.RecentExits.Last().ExitSignal); // stopped, so only SIGKILL could end it
    }

    [Fact]
    public async Task NotifySocket_MalformedAndForeignDatagrams_IgnoredAndCounted()
    {
        string config = _home.WriteConfig($"""
            apps:
              web:
                cmd: {TendHome.Child}
                args: [--notify-send, "no assignment here", --sleep]
                ready: {"{"} notify: true {"}"}
            """);

        await _home.OkAsync("start", config);
        NotifyInfo notify = (await Eventually.ReturnsAsync(() => _home.DescribeAsync("web"),
            a => a.Instances.Single().Notify?.Malformed == 1, "the malformed datagram counted")).Instances.Single().Notify!;

        // This test process is not web's: its READY=1 must not count.
        using (var socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified))
            socket.SendTo(Encoding.UTF8.GetBytes("READY=1"), new UnixDomainSocketEndPoint(notify.Socket));

        AppInfo after = await Eventually.ReturnsAsync(() => _home.DescribeAsync("web"),
            a => a.Instances.Single().Notify?.Foreign == 1, "the foreign datagram counted");
        Assert.False(after.Instances.Single().Ready);
        Assert.Equal(0, after.Instances.Single().Notify!.Accepted);
    }

    [Fact]
    public async Task Notify_StoppingOnTerm_IsTakenDuringStop()
    {
        string config = _home.WriteConfig($"""
            apps:
              web:
                cmd: {TendHome.Child}
                args: [--notify-ready-after, "0", --notify-stopping-on-term, --sleep]
                ready: {"{"} notify: true {"}"}
            """);

        await _home.OkAsync("start", config, "--wait-ready");
        await _home.OkAsync("stop", "web");

        AppInfo app = await _home.DescribeAsync("web");
        Assert.Equal(2, app.Instances.Single().Notify!.Accepted);
        Assert.Contains("web#0 reports it is stopping", await File.ReadAllTextAsync(Path.Combine(_home.Dir, "daemon.log")));
    }

    [Fact]
    public async Task DependsOnReady_WaitsForReadyNotJustOnline()
    {
        string config = _home.WriteConfig($"""
            apps:
              db:
                cmd: {TendHome.Child}
                args: [--notify-ready-after, "1500", --sleep]
                ready: {"{"} notify: true {"}"}
              api:
                cmd: {TendHome.Child}
                args: [--sleep]
                depends_on: {"{"} db: ready {"}"}
            """);

        await _home.OkAsync("start", config);
        InstanceInfo[] early = await _home.ListAsync();
        Assert.Equal("online", early.Single(i => i.Name == "db").Status);
        Assert.Equal("waiting", early.Single(i => i.Name == "api").Status);

        await _home.WaitForAsync(l => l.Single(i => i.Name == "api").Status == "online", "api spawned");
        AppInfo api = await _home.DescribeAsync("api");
        string log = await File.ReadAllTextAsync(Path.Combine(_home.Dir, "daemon.log"));
        Assert.Contains("db#0 is ready", log);
        Assert.True(log.IndexOf("db#0 is ready", StringComparison.Ordinal) < log.IndexOf("api#0 started", StringComparison.Ordinal),
            "api was spawned before db was ready");
        Assert.NotNull(api.Instances.Single().Pid);
    }

    [Fact]
    public async Task HealthEndpoints_AnswerAsInstancesBecomeReady()
    {
        // web says READY=1 only once the test lets it (the file "go" appears), not after a delay a busy machine may outlast.
        string go = Path.Combine(_home.Dir, "go");
        string config = _home.WriteConfig($"""
            apps:
              web:
                cmd: /bin/sh
                args: [-c, "while [ ! -e {go} ]; do sleep 0.1; done; exec {TendHome.Child} --notify-ready-after 0 --sleep"]
                ready: {"{"} notify: true {"}"}
                critical: true
              side:
                cmd: {TendHome.Child}
                args: [--sleep]
                ready: {"{"} notify: true {"}"}
            """);

        await _home.OkAsync("start", config);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        PingInfo ping = JsonSerializer.Deserialize((await _home.OkAsync("ping", "--json")).Stdout, TendJsonContext.Default.PingInfo)!;
        Assert.StartsWith("http://127.0.0.1:", ping.HealthUrl);
        string url = ping.HealthUrl!.TrimEnd('/');

        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(url + "/live")).StatusCode);
        using (HttpResponseMessage health = await http.GetAsync(url + "/health"))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, health.StatusCode);
            HealthReport report = JsonSerializer.Deserialize(await health.Content.ReadAsStringAsync(), TendJsonContext.Default.HealthReport)!;
            Assert.Equal("critical", report.Status);
            Assert.Equal("critical", report.Apps.Single(a => a.Name == "web").Status);
        }
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await http.GetAsync(url + "/apps/web/health")).StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await http.GetAsync(url + "/ready")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync(url + "/apps/nope/health")).StatusCode);
        // Over TCP the control API is limited to what the dashboard uses (docs/dashboard.md): never kill.
        Assert.Equal(HttpStatusCode.NotFound, (await http.PostAsync(url + ApiRoutes.Kill, new StringContent("{}", Encoding.UTF8, "application/json"))).StatusCode);

        File.WriteAllText(go, "");
        await _home.WaitForAsync(l => Web(l).Ready, "web ready");
        using (HttpResponseMessage health = await http.GetAsync(url + "/health"))
        {
            // web (critical) is ready; side never says READY=1: degraded, still 200.
            Assert.Equal(HttpStatusCode.OK, health.StatusCode);
            HealthReport report = JsonSerializer.Deserialize(await health.Content.ReadAsStringAsync(), TendJsonContext.Default.HealthReport)!;
            Assert.Equal("degraded", report.Status);
            Assert.Equal("healthy", report.Apps.Single(a => a.Name == "web").Status);
        }
        using (HttpResponseMessage app = await http.GetAsync(url + "/apps/web/health"))
        {
            Assert.Equal(HttpStatusCode.OK, app.StatusCode);
            AppHealth web = JsonSerializer.Deserialize(await app.Content.ReadAsStringAsync(), TendJsonContext.Default.AppHealth)!;
            Assert.Equal(1, web.Ready);
            Assert.True(web.Critical);
        }
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await http.GetAsync(url + "/ready")).StatusCode);

        await _home.OkAsync("stop", "side");
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(url + "/ready")).StatusCode);
        HealthReport all = JsonSerializer.Deserialize(await http.GetStringAsync(url + "/health"), TendJsonContext.Default.HealthReport)!;
        Assert.Equal("healthy", all.Status);
        Assert.Equal("stopped", all.Apps.Single(a => a.Name == "side").Status);
    }

    /// <summary>A real HTTP server on a free loopback port (the probe tests' server) whose answer the test sets.</summary>
    private sealed class TestHttpServer : IAsyncDisposable
    {
        private readonly Health.HttpTestServer _server;

        public TestHttpServer() => _server = new Health.HttpTestServer(_ => Health.HttpTestServer.Status(Status));

        public volatile int Status = 200;
        public string Url => $"http://127.0.0.1:{_server.Port}/";
        public int Requests => _server.Requests;

        public ValueTask DisposeAsync() => _server.DisposeAsync();
    }
}
