using System.Net;
using System.Net.Sockets;
using Tend.Api;
using Tend.Tests.Support;

namespace Tend.Tests.Integration;

/// <summary>
/// listen:, reload, deploy and scale on real processes: test children serving HTTP on the socket
/// the daemon hands them (socket mode) or on their own port behind the daemon's proxy, under a
/// load client that counts every request that did not get an answer.
/// </summary>
public sealed class ClusterTests : IAsyncLifetime
{
    private readonly TendHome _home = new();
    private readonly int _port = FreePorts.Next();

    public Task InitializeAsync() => Task.CompletedTask;
    public async Task DisposeAsync() => await _home.DisposeAsync();


    private string Url => $"http://127.0.0.1:{_port}/";

    /// <summary>An app of test children that serve HTTP and say READY=1 once they accept.</summary>
    private string Config(int instances, string mode = "socket", string extraArgs = "", string extra = "") => _home.WriteConfig($"""
        apps:
          web:
            cmd: {TendHome.Child}
            args: [{(mode == "socket" ? "--serve-fd3" : "--serve-port, env")}, --notify-ready-after, "0"{extraArgs}]
            instances: {instances}
            listen: "127.0.0.1:{_port}"
            listen_mode: {mode}
            ready: {"{"} notify: true, ready_timeout: 10s {"}"}
            kill_timeout: 5s
        {extra}
        """);

    private static List<int> Pids(InstanceInfo[] list) => [.. list.Where(i => i.Name == "web").Select(i => i.Pid ?? 0).Order()];

    [Fact]
    public async Task Start_ReadyProbeOnTheSharedListenAddress_RefusedNamingTheLine()
    {
        string config = _home.WriteConfig($"""
            apps:
              web:
                cmd: {TendHome.Child}
                args: [--serve-fd3]
                instances: 2
                listen: "127.0.0.1:{_port}"
                ready: {"{"} http: "{Url}" {"}"}
            """);
        CliResult r = await _home.RunAsync("start", config);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("tend.yaml:7:", r.Stderr);
        Assert.Contains("apps.web.ready.http", r.Stderr);
        Assert.Contains("notify: true", r.Stderr);
        Assert.Empty(await _home.ListAsync());
    }

    [Fact]
    public async Task Proxy_ReadyProbeOnEachInstancesOwnPort_ExpandsPortPerInstance()
    {
        string config = _home.WriteConfig($"""
            apps:
              web:
                cmd: {TendHome.Child}
                args: [--serve-port, env]
                instances: 2
                listen: "127.0.0.1:{_port}"
                listen_mode: proxy
                ready: {"{"} http: "http://127.0.0.1:${"{"}PORT{"}"}/", interval: 1s, ready_timeout: 20s {"}"}
            """);
        await _home.OkAsync("start", config, "--wait-ready");
        AppInfo app = await _home.DescribeAsync("web");
        Assert.All(app.Instances, i => Assert.True(i.Ready, $"web#{i.Instance} not ready"));
        // Each instance was checked at its own port, not at the proxy's.
        var checks = app.Instances.Select(i => i.Probes!.Single().Check).ToList();
        Assert.Equal(2, checks.Distinct().Count());
        Assert.DoesNotContain(checks, c => c.Contains($":{_port}/"));
    }

    [Theory]
    [InlineData("socket")]
    [InlineData("proxy")]
    public async Task Stop_ClosesTheListenSocket_ClientsAreRefused_StartReopensIt(string mode)
    {
        await _home.OkAsync("start", Config(2, mode), "--wait-ready");
        using var http = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.Zero }) { Timeout = TimeSpan.FromSeconds(10) };
        Assert.StartsWith("pid=", await http.GetStringAsync(Url));

        await _home.OkAsync("stop", "web");
        // Refused at once, not accepted into a backlog nobody reads (the client would hang until its timeout).
        using (var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            var refused = await Assert.ThrowsAsync<SocketException>(async () =>
                await client.ConnectAsync(IPAddress.Loopback, _port).WaitAsync(TimeSpan.FromSeconds(5)));
            Assert.Equal(SocketError.ConnectionRefused, refused.SocketErrorCode);
        }

        await _home.OkAsync("start", "web", "--wait-ready");
        Assert.StartsWith("pid=", await http.GetStringAsync(Url));
    }

    [Fact]
    public async Task SocketActivation_EveryInstanceServesTheDaemonsSocket()
    {
        await _home.OkAsync("start", Config(2), "--wait-ready");
        List<int> pids = Pids(await _home.ListAsync());

        // The kernel spreads new connections over both instances; keep asking until both answered.
        using var http = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.Zero }) { Timeout = TimeSpan.FromSeconds(10) };
        var seen = new HashSet<int>();
        await Eventually.TrueAsync(() =>
        {
            string body = http.GetStringAsync(Url).GetAwaiter().GetResult();
            seen.Add(int.Parse(body.Split(' ')[0]["pid=".Length..]));
            return seen.SetEquals(pids);
        }, "both instances answering on the shared port");

        // The socket is the daemon's: an instance's own LISTEN_* environment says so.
        AppInfo app = await _home.DescribeAsync("web");
        string environ = File.ReadAllText($"/proc/{pids[0]}/environ");
        Assert.Contains("LISTEN_FDS=1\0", environ);
        Assert.Contains($"LISTEN_PID={pids[0]}\0", environ);
        Assert.Contains("LISTEN_FDNAMES=web\0", environ);
        Assert.Equal(2, app.Instances.Count);
        Assert.Equal([$"127.0.0.1:{_port}"], app.Listen);
        Assert.Equal("socket", app.ListenMode);
    }

    [Theory]
    [InlineData("socket", 2)]
    [InlineData("proxy", 2)]
    [InlineData("socket", 1)]
    public async Task Reload_TenTimesUnderLoad_NoRequestFails(string mode, int instances)
    {
        await _home.OkAsync("start", Config(instances, mode), "--wait-ready");
        using var load = new LoadClient(Url, clients: 4);
        await Eventually.TrueAsync(() => load.Succeeded > 20, "the load client getting answers");

        int minReady = int.MaxValue;
        using var watch = new CancellationTokenSource();
        Task watcher = Task.Run(async () =>
        {
            while (!watch.IsCancellationRequested)
            {
                InstanceInfo[] l = await _home.ListAsync();
                minReady = Math.Min(minReady, l.Count(i => i.Ready));
            }
        });

        var before = Pids(await _home.ListAsync());
        for (int r = 0; r < 10; r++)
        {
            CliResult reload = await _home.RunAsync("reload", "web");
            Assert.True(reload.ExitCode == 0, $"reload {r + 1}: {reload}");
        }
        long answeredDuringReloads = load.Succeeded;
        await Eventually.TrueAsync(() => load.Succeeded > answeredDuringReloads + 20, "answers after the last reload");
        await watch.CancelAsync();
        await watcher;
        await load.StopAsync();

        List<int> after = Pids(await _home.ListAsync());
        Assert.Equal(instances, after.Count);
        Assert.Empty(after.Intersect(before));
        Assert.Equal(0, load.Failed);
        // Surge first: the count of ready instances never went below what was configured.
        Assert.True(minReady >= instances, $"only {minReady} instances were ready at one point ({instances} configured)");
        string log = await File.ReadAllTextAsync(Path.Combine(_home.Dir, "daemon.log"));
        Assert.Equal(10 * instances, log.Split("replaced: pid").Length - 1);
    }

    [Fact]
    public async Task Start_PortInUse_FailsWithReason_AndAfterADaemonRestartTheAppIsBlockedNotLost()
    {
        using (var squatter = new TcpListener(IPAddress.Loopback, _port))
        {
            squatter.Start();
            CliResult refused = await _home.RunAsync("start", Config(1));
            Assert.Equal(1, refused.ExitCode);
            Assert.Contains($"web: cannot listen on 127.0.0.1:{_port}", refused.Stderr);
            Assert.Empty(await _home.ListAsync());
        }

        await _home.OkAsync("start", Config(1), "--wait-ready");
        await _home.OkAsync("kill");
        using (var squatter = new TcpListener(IPAddress.Loopback, _port))
        {
            squatter.Start();
            InstanceInfo web = (await _home.WaitForAsync(l => l.Length == 1 && l[0].Status == "blocked", "web restored, blocked")).Single();
            Assert.Null(web.Pid);
            Assert.Contains("cannot listen", (await _home.DescribeAsync("web")).Instances.Single().StatusReason);
        }
    }

    [Fact]
    public async Task Reload_ReplacementNeverReady_StopsAndOldInstancesKeepServing()
    {
        await _home.OkAsync("start", Config(2), "--wait-ready");
        List<int> before = Pids(await _home.ListAsync());
        using var load = new LoadClient(Url, clients: 2);

        // The new spec serves but never says READY=1; ready_timeout is 10s.
        _home.WriteConfig($"""
            apps:
              web:
                cmd: {TendHome.Child}
                args: [--serve-fd3]
                instances: 2
                listen: "127.0.0.1:{_port}"
                ready: {"{"} notify: true, ready_timeout: 1s {"}"}
                restart: never
            """);
        CliResult reload = await _home.RunAsync("reload", "web", "--update-env");

        Assert.Equal(1, reload.ExitCode);
        Assert.Contains("reload of web stopped: web#0 ", reload.Stderr);
        Assert.Contains("the instances not replaced keep serving", reload.Stderr);
        InstanceInfo[] list = await _home.ListAsync();
        Assert.Equal(before, Pids(list));
        Assert.All(list, i => Assert.True(i.Ready));
        await load.StopAsync();
        Assert.Equal(0, load.Failed);
    }

    [Fact]
    public async Task Reload_WhileOneRuns_IsRefused()
    {
        // Replacements take 1.5 s to be ready, so the first reload is still running when the second comes.
        await _home.OkAsync("start", _home.WriteConfig($"""
            apps:
              web:
                cmd: {TendHome.Child}
                args: [--serve-fd3, --notify-ready-after, "1500"]
                instances: 2
                listen: "127.0.0.1:{_port}"
                ready: {"{"} notify: true {"}"}
            """), "--wait-ready");

        Task<CliResult> first = _home.RunAsync("reload", "web");
        await _home.WaitForAsync(l => l.Length > 2, "the first reload's replacement started");
        CliResult second = await _home.RunAsync("reload", "web");
        Assert.Equal(1, second.ExitCode);
        Assert.Contains("web: a reload, deploy or scale is already running; reload refused", second.Stderr);
        Assert.Equal(0, (await first).ExitCode);
    }

    [Fact]
    public async Task Scale_UpDownAndUp_ReusesInstanceNumbers()
    {
        await _home.OkAsync("start", Config(2), "--wait-ready");

        CliResult up = await _home.OkAsync("scale", "web", "4");
        Assert.Contains("scaled web from 2 to 4 instances: started web#2, web#3", up.Stdout);
        InstanceInfo[] four = await _home.WaitForAsync(l => l.Count(i => i.Ready) == 4, "4 ready");
        Assert.Equal([0, 1, 2, 3], four.Select(i => i.Instance).Order());

        CliResult down = await _home.OkAsync("scale", "web", "-3");
        Assert.Contains("scaled web from 4 to 1 instances: stopped and removed web#3, web#2, web#1", down.Stdout);
        InstanceInfo[] one = await _home.ListAsync();
        Assert.Equal([0], one.Select(i => i.Instance));
        Assert.Equal(four.Single(i => i.Instance == 0).Pid, one.Single().Pid);

        await _home.OkAsync("scale", "web", "+2");
        InstanceInfo[] three = await _home.WaitForAsync(l => l.Count(i => i.Ready) == 3, "3 ready");
        Assert.Equal([0, 1, 2], three.Select(i => i.Instance).Order());
        Assert.Equal(3, (await _home.DescribeAsync("web")).InstancesWanted);

        CliResult bad = await _home.RunAsync("scale", "web", "x3");
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("'x3' is not an instance count", bad.Stderr);
    }

    [Fact]
    public async Task DeployBlueGreen_SwitchesWholeSet_OrKeepsTheOldOneOnFailure()
    {
        await _home.OkAsync("start", Config(2), "--wait-ready");
        List<int> blue = Pids(await _home.ListAsync());

        CliResult ok = await _home.OkAsync("deploy", "web", "--strategy", "blue-green", "--warmup", "500ms");
        Assert.Contains("deployed web blue-green", ok.Stdout);
        List<int> green = Pids(await _home.ListAsync());
        Assert.Equal(2, green.Count);
        Assert.Empty(green.Intersect(blue));

        // A new version that crashes after 300 ms: ready, but not for the warm-up.
        Config(2, extraArgs: ", --exit-after, 300ms, --exit-code, \"1\"");
        CliResult failed = await _home.RunAsync("deploy", "web", "--strategy", "blue-green", "--warmup", "2s");
        Assert.Equal(1, failed.ExitCode);
        Assert.Contains("blue-green deploy of web abandoned", failed.Stderr);
        Assert.Contains("the old set kept serving", failed.Stderr);
        Assert.Equal(green, Pids(await _home.ListAsync()));
    }

    [Fact]
    public async Task DeployCanary_ContinuesWhenHealthy_RollsBackWhenNot()
    {
        await _home.OkAsync("start", Config(3), "--wait-ready");
        List<int> first = Pids(await _home.ListAsync());

        await _home.OkAsync("deploy", "web", "--strategy", "canary", "--canary", "1", "--wait", "500ms");
        List<int> second = Pids(await _home.ListAsync());
        Assert.Equal(3, second.Count);
        Assert.Empty(second.Intersect(first));

        Config(3, extraArgs: ", --exit-after, 300ms, --exit-code, \"1\"");
        CliResult failed = await _home.RunAsync("deploy", "web", "--strategy", "canary", "--canary", "1", "--wait", "3s");
        Assert.Equal(1, failed.ExitCode);
        Assert.Contains("canary deploy of web rolled back", failed.Stderr);
        InstanceInfo[] after = await _home.WaitForAsync(l => l.Length == 3 && l.All(i => i.Ready), "3 ready after the rollback");
        // Two never stopped; the canary's number got an instance of the old spec again.
        Assert.Equal(2, Pids(after).Intersect(second).Count());
        Assert.DoesNotContain("--exit-after", string.Join(' ', File.ReadAllText($"/proc/{after[0].Pid}/cmdline").Split('\0')));
    }
}
