using Tend.Api;
using Tend.Tests.Support;

namespace Tend.Tests.Integration;

/// <summary>
/// Supervision trees on real processes, through the CLI: start and stop order from the
/// children's own stamps, and after a child is killed, who gets a new pid and who keeps theirs.
/// </summary>
public sealed class SupervisionTreeTests : IAsyncLifetime
{
    private readonly TendHome _home = new();

    public Task InitializeAsync() => Task.CompletedTask;
    public async Task DisposeAsync() => await _home.DisposeAsync();

    private string Stamps => Path.Combine(_home.Dir, "stamps");

    private string App(string name, string restart = "always") => $"""
          {name}:
            cmd: {TendHome.Child}
            args: [--stamp, {Stamps}, --sleep]
            restart: {restart}
            kill_timeout: 10s
        """;

    /// <summary>outer (permanent, room for 5 restarts) over a transient inner with no room at all (it gives up on x's first crash), and y.</summary>
    private string TransientInnerTree => $"""
        apps:
        {App("x")}
        {App("y")}
        supervisors:
          outer:
            max_restarts: 5
            within: 1m
            children: [inner, y]
          inner:
            max_restarts: 0
            restart: on-failure
            children: [x]
        """;

    private async Task<Dictionary<string, int>> StartAsync(string yaml, params string[] apps)
    {
        await _home.OkAsync("start", _home.WriteConfig(yaml));
        InstanceInfo[] list = await _home.WaitForAsync(l => apps.All(a => l.Any(i => i.Name == a && i.Status == "online")), "all online");
        return list.ToDictionary(i => i.Name, i => i.Pid!.Value);
    }

    /// <summary>Waits until each of <paramref name="renewed"/> is online with a pid other than before.</summary>
    private Task<InstanceInfo[]> WaitRenewedAsync(Dictionary<string, int> before, params string[] renewed) =>
        _home.WaitForAsync(l => renewed.All(a => l.Any(i => i.Name == a && i.Status == "online" && i.Pid != before[a])),
            $"new pids for {string.Join(", ", renewed)}");

    private static int? Pid(InstanceInfo[] list, string app) => list.Single(i => i.Name == app).Pid;

    /// <summary>
    /// The apps in the order the daemon spawned them (its "started" events). The children's own
    /// start stamps cannot show this: a child is started once spawned, and two runtimes booting
    /// side by side reach their first line in either order. Stop stamps can: each stop waits.
    /// </summary>
    private string[] SpawnedApps() =>
        [.. StartedEvents().Select(e => e.GetProperty("app").GetString()!)];

    /// <summary>The daemon's "started" events. The daemon may be writing the last line as we read: a partial line is skipped.</summary>
    private List<System.Text.Json.JsonElement> StartedEvents()
    {
        var events = new List<System.Text.Json.JsonElement>();
        foreach (string line in File.ReadAllLines(Path.Combine(_home.Dir, "daemon.log")))
        {
            System.Text.Json.JsonElement e;
            try { e = System.Text.Json.JsonDocument.Parse(line).RootElement; }
            catch (System.Text.Json.JsonException) { continue; }
            if (e.TryGetProperty("event_id", out var id) && id.GetInt32() == 1001) events.Add(e);
        }
        return events;
    }

    private int[] SpawnedPids(string app) =>
        [.. StartedEvents().Where(e => e.GetProperty("app").GetString() == app).Select(e => e.GetProperty("pid").GetInt32())];

    private string[] StampedApps(string what) =>
        [.. File.ReadAllLines(Stamps).Where(l => l.Split(' ')[1] == what).Select(l => l.Split(' ')[3].Split('#')[0])];

    [Fact]
    public async Task Tree_StartsInOrder_StopsInReverse()
    {
        await StartAsync($"""
            apps:
            {App("web")}
            {App("db")}
            {App("cache")}
            {App("api")}
            supervisors:
              backend:
                strategy: rest_for_one
                children: [db, data, api]
              data:
                children: [cache]
            """, "web", "db", "cache", "api");

        Assert.Equal(["web", "db", "cache", "api"], SpawnedApps());
        Assert.Equal(["web", "db", "cache", "api"], (await _home.ListAsync()).Select(i => i.Name));

        await _home.OkAsync("stop", "all");

        await _home.WaitForAsync(l => l.All(i => i.Status == "stopped"), "all stopped");
        Assert.Equal(["api", "cache", "db", "web"], StampedApps("term"));
    }

    [Theory]
    [InlineData("one_for_one", "a", "a")]
    [InlineData("one_for_one", "b", "b")]
    [InlineData("one_for_all", "a", "a,b,c")]
    [InlineData("one_for_all", "c", "a,b,c")]
    [InlineData("rest_for_one", "a", "a,b,c")]
    [InlineData("rest_for_one", "b", "b,c")]
    [InlineData("rest_for_one", "c", "c")]
    public async Task Strategy_KilledChild_RestartsExactlyTheRightSiblings(string strategy, string killed, string renewedList)
    {
        string[] renewed = renewedList.Split(',');
        Dictionary<string, int> before = await StartAsync($"""
            apps:
            {App("a")}
            {App("b")}
            {App("c")}
            supervisors:
              s:
                strategy: {strategy}
                max_restarts: 10
                within: 1m
                children: [a, b, c]
            """, "a", "b", "c");

        await _home.OkAsync("signal", "SIGKILL", killed);

        InstanceInfo[] after = await WaitRenewedAsync(before, renewed);
        foreach (string kept in new[] { "a", "b", "c" }.Except(renewed))
            Assert.Equal(before[kept], Pid(after, kept));
        // Siblings restarted by the strategy were stopped in reverse order, then started in order.
        string[] terms = StampedApps("term");
        Assert.Equal(renewed.Where(r => r != killed).Reverse(), terms);
        Assert.Equal(["a", "b", "c", .. renewed], SpawnedApps());
    }

    [Fact]
    public async Task Temporary_StoppedBecauseASiblingFailed_IsNotStartedAgain()
    {
        Dictionary<string, int> before = await StartAsync($"""
            apps:
            {App("a")}
            {App("b", "on-failure")}
            {App("c", "never")}
            supervisors:
              s:
                strategy: rest_for_one
                max_restarts: 10
                within: 1m
                children: [a, b, c]
            """, "a", "b", "c");

        await _home.OkAsync("signal", "SIGKILL", "a");

        InstanceInfo[] after = await WaitRenewedAsync(before, "a", "b");
        Assert.Equal("stopped", after.Single(i => i.Name == "c").Status);
        Assert.Null(Pid(after, "c"));
        Assert.Equal(["a", "b", "c", "a", "b"], SpawnedApps());
    }

    [Fact]
    public async Task Intensity_Exceeded_PermanentSubSupervisorRestartedFresh_SiblingsKeepPids()
    {
        Dictionary<string, int> before = await StartAsync($"""
            apps:
            {App("x")}
            {App("y")}
            supervisors:
              outer:
                strategy: one_for_one
                max_restarts: 5
                within: 1m
                children: [inner, y]
              inner:
                max_restarts: 0
                children: [x]
            """, "x", "y");

        await _home.OkAsync("signal", "SIGKILL", "x");

        InstanceInfo[] after = await WaitRenewedAsync(before, "x");
        Assert.Equal(before["y"], Pid(after, "y"));
        string log = await Eventually.ReturnsAsync(() => File.ReadAllText(Path.Combine(_home.Dir, "daemon.log")),
            t => t.Contains("supervisor outer (one_for_one) restarting inner", StringComparison.Ordinal), "the escalation in daemon.log");
        Assert.Contains("supervisor inner giving up", log);
    }

    [Fact]
    public async Task Intensity_Exceeded_TransientSubSupervisorStaysDown()
    {
        Dictionary<string, int> before = await StartAsync(TransientInnerTree, "x", "y");

        await _home.OkAsync("signal", "SIGKILL", "x");

        await Eventually.ReturnsAsync(() => File.ReadAllText(Path.Combine(_home.Dir, "daemon.log")),
            t => t.Contains("does not restart failed child supervisor inner", StringComparison.Ordinal), "the refusal in daemon.log");
        InstanceInfo[] after = await _home.ListAsync();
        Assert.Equal("stopped", after.Single(i => i.Name == "x").Status);
        Assert.Equal(before["y"], Pid(after, "y"));
        Assert.Equal(["x", "y"], SpawnedApps());
    }

    [Fact]
    public async Task Intensity_CountedPerSupervisor_NotPerChild()
    {
        Dictionary<string, int> before = await StartAsync($"""
            apps:
            {App("a")}
            {App("b")}
            supervisors:
              s:
                max_restarts: 1
                within: 10m
                children: [a, b]
            """, "a", "b");

        // One restart each: a alone is within the intensity, b's makes two in the period.
        await _home.OkAsync("signal", "SIGKILL", "a");
        before = (await WaitRenewedAsync(before, "a")).ToDictionary(i => i.Name, i => i.Pid!.Value);
        await _home.OkAsync("signal", "SIGKILL", "b");

        // s gives up and, permanent under the root, is restarted fresh: both get new pids.
        await WaitRenewedAsync(before, "a", "b");
        string log = File.ReadAllText(Path.Combine(_home.Dir, "daemon.log"));
        Assert.Contains("supervisor s giving up", log);
    }

    [Fact]
    public async Task TreeCommand_ShowsSupervisorsStrategiesAndRestarts()
    {
        Dictionary<string, int> before = await StartAsync($"""
            apps:
            {App("web")}
            {App("db")}
            {App("api")}
            supervisors:
              backend:
                strategy: rest_for_one
                max_restarts: 3
                within: 1m
                children: [db, api]
            """, "web", "db", "api");
        await _home.OkAsync("signal", "SIGKILL", "db");
        await WaitRenewedAsync(before, "db", "api");

        CliResult json = await _home.OkAsync("tree", "--json");
        TreeNodeInfo root = System.Text.Json.JsonSerializer.Deserialize(json.Stdout, TendJsonContext.Default.TreeNodeInfo)!;

        Assert.Equal(["web", "backend"], root.Children.Select(c => c.Name));
        TreeNodeInfo backend = root.Children[1];
        Assert.Equal(("supervisor", "rest_for_one", "running", 1, 3), (backend.Kind, backend.Strategy, backend.Status, backend.Restarts, backend.MaxRestarts));
        Assert.Equal(["db", "api"], backend.Children.Select(c => c.Name));
        AppInfo api = await _home.DescribeAsync("api");
        Assert.Equal(["root", "backend"], api.Supervisors);
        Assert.Contains("supervisor", (await _home.OkAsync("describe", "api")).Stdout);
        Assert.Contains("root › backend", (await _home.OkAsync("describe", "api")).Stdout);
        CliResult text = await _home.OkAsync("tree");
        Assert.Contains("└─ backend  rest_for_one  running  ↺ 1 (max 3 in 1m)\n   ├─ db  online  pid ", text.Stdout);
    }

    [Fact]
    public async Task DaemonRestart_BringsTheTreeBack()
    {
        string config = _home.WriteConfig($"""
            apps:
            {App("a")}
            {App("b")}
            supervisors:
              s:
                strategy: one_for_all
                max_restarts: 10
                within: 1m
                children: [a, b]
            """);
        await _home.OkAsync("start", config);
        await _home.WaitForAsync(l => l.Length == 2 && l.All(i => i.Status == "online"), "a and b online");
        await _home.OkAsync("kill");

        Dictionary<string, int> before = (await _home.WaitForAsync(l => l.Length == 2 && l.All(i => i.Status == "online"), "a and b online again"))
            .ToDictionary(i => i.Name, i => i.Pid!.Value);
        await _home.OkAsync("signal", "SIGKILL", "b");

        // Still one_for_all after the restart: a is restarted along with b.
        await WaitRenewedAsync(before, "a", "b");
    }

    [Fact]
    public async Task DaemonRestart_StoppedSupervisor_StaysStopped_ChildrenStayDown()
    {
        await StartAsync($"""
            apps:
            {App("web")}
            {App("db")}
            {App("api")}
            supervisors:
              backend:
                strategy: one_for_all
                max_restarts: 10
                within: 1m
                children: [db, api]
            """, "web", "db", "api");
        await _home.OkAsync("stop", "backend");
        await _home.WaitForAsync(l => l.Count(i => i.Status == "stopped") == 2, "backend's apps stopped");

        await _home.OkAsync("kill");

        // Any command brings the daemon back, which restores state.json.
        InstanceInfo[] list = await _home.WaitForAsync(l => l.Single(i => i.Name == "web").Status == "online", "web online again");
        Assert.Equal(("stopped", "stopped"), (list.Single(i => i.Name == "db").Status, list.Single(i => i.Name == "api").Status));
        Assert.Equal("stopped", (await TreeAsync()).Children.Single(c => c.Name == "backend").Status);
        Assert.Equal(["web", "db", "api", "web"], SpawnedApps());

        // Stopped, not failed or forgotten: starting it brings its subtree back in order.
        await _home.OkAsync("start", "backend");
        await _home.WaitForAsync(l => l.All(i => i.Status == "online"), "all online");
        Assert.Equal("running", (await TreeAsync()).Children.Single(c => c.Name == "backend").Status);
    }

    [Fact]
    public async Task DaemonRestart_FailedSupervisor_StaysFailedWithItsReason_ChildrenStayDown()
    {
        await StartAsync(TransientInnerTree, "x", "y");
        await _home.OkAsync("signal", "SIGKILL", "x");
        TreeNodeInfo failed = await Eventually.ReturnsAsync(TreeAsync, r => Inner(r).Status == "failed", "inner failed");
        Assert.StartsWith("supervisor inner gave up: more than 0 restarts within 5s", Inner(failed).Reason);

        await _home.OkAsync("kill");

        InstanceInfo[] list = await _home.WaitForAsync(l => l.Single(i => i.Name == "y").Status == "online", "y online again");
        Assert.Equal("stopped", list.Single(i => i.Name == "x").Status);
        Assert.Null(Pid(list, "x"));
        TreeNodeInfo after = await TreeAsync();
        Assert.Equal(("failed", Inner(failed).Reason), (Inner(after).Status, Inner(after).Reason));
        Assert.Equal("running", after.Children.Single(c => c.Name == "outer").Status);
        Assert.Equal(["x", "y", "y"], SpawnedApps());

        static TreeNodeInfo Inner(TreeNodeInfo root) => root.Children.Single(c => c.Name == "outer").Children.Single(c => c.Name == "inner");
    }

    [Fact]
    public async Task DaemonRestart_FailedTree_StaysFailed_NothingRestarts()
    {
        string config = _home.WriteConfig($"""
            apps:
              x:
                cmd: {TendHome.Child}
                args: [--exit-after, 100ms, --exit-code, "1"]
            {App("y")}
            supervisors:
              s:
                max_restarts: 0
                children: [x]
            """);
        await _home.OkAsync("start", config);
        TreeNodeInfo failed = await Eventually.ReturnsAsync(TreeAsync, r => r.Status == "failed", "the tree failed");
        int spawned = SpawnedApps().Length;

        await _home.OkAsync("kill");

        InstanceInfo[] list = await _home.ListAsync();
        Assert.All(list, i => Assert.Equal("stopped", i.Status));
        TreeNodeInfo after = await TreeAsync();
        Assert.Equal(("failed", failed.Reason), (after.Status, after.Reason));
        Assert.Equal(spawned, SpawnedApps().Length);
    }

    [Fact]
    public async Task StopApp_WhileOneForAllRestartsIt_UserWins_StaysStoppedAcrossSiblingRestarts()
    {
        // web ignores SIGTERM, so each one_for_all restart spends its kill_timeout stopping it:
        // the user's stop below lands inside a restart, after the supervisor chose whom to start.
        string config = _home.WriteConfig($"""
            apps:
              web:
                cmd: {TendHome.Child}
                args: [--stamp, {Stamps}, --ignore-term, --sleep]
                kill_timeout: 1s
              crasher:
                cmd: {TendHome.Child}
                args: [--exit-after, 300ms, --exit-code, "1"]
            supervisors:
              s:
                strategy: one_for_all
                max_restarts: 1000
                within: 1m
                children: [web, crasher]
            """);
        await _home.OkAsync("start", config);
        await _home.WaitForAsync(l => l.Single(i => i.Name == "web").Status == "stopping", "a one_for_all restart stopping web");

        await _home.OkAsync("stop", "web");

        int webSpawns = SpawnedPids("web").Length;
        int crasherSpawns = SpawnedPids("crasher").Length;
        await Eventually.TrueAsync(() => SpawnedPids("crasher").Length >= crasherSpawns + 3, "three more one_for_all restarts");
        InstanceInfo[] list = await _home.ListAsync();
        Assert.Equal("stopped", list.Single(i => i.Name == "web").Status);
        Assert.Null(Pid(list, "web"));
        Assert.Equal(webSpawns, SpawnedPids("web").Length);
        Assert.Equal("running", (await TreeAsync()).Children.Single().Status);
    }

    [Fact]
    public async Task RestartApp_DuringOneForAllRestart_RunsAfterIt_EndsOnline()
    {
        string config = _home.WriteConfig($"""
            apps:
              web:
                cmd: {TendHome.Child}
                args: [--ignore-term, --sleep]
                kill_timeout: 1s
              worker:
                cmd: {TendHome.Child}
                args: [--sleep]
            supervisors:
              s:
                strategy: one_for_all
                max_restarts: 10
                within: 1m
                children: [web, worker]
            """);
        await _home.OkAsync("start", config);
        await _home.WaitForAsync(l => l.All(i => i.Status == "online"), "all online");
        await _home.OkAsync("signal", "SIGKILL", "worker");
        await _home.WaitForAsync(l => l.Single(i => i.Name == "web").Status == "stopping", "the one_for_all restart stopping web");

        await _home.OkAsync("restart", "web");

        // The user's restart came after the supervisor's, whole: web was spawned three times
        // (first start, the strategy's restart, the user's), worker twice, and both run.
        InstanceInfo[] list = await _home.ListAsync();
        Assert.All(list, i => Assert.Equal("online", i.Status));
        Assert.Equal(3, SpawnedPids("web").Length);
        Assert.Equal(Pid(list, "web"), SpawnedPids("web")[^1]);
        Assert.Equal(Pid(list, "worker"), SpawnedPids("worker")[^1]);
    }

    [Fact]
    public async Task StopAndRestart_Supervisor_ActOnItsSubtreeInOrder()
    {
        Dictionary<string, int> before = await StartAsync($"""
            apps:
            {App("web")}
            {App("db")}
            {App("cache")}
            {App("api")}
            supervisors:
              backend:
                children: [db, data, api]
              data:
                children: [cache]
            """, "web", "db", "cache", "api");

        CliResult stop = await _home.OkAsync("stop", "backend");

        Assert.StartsWith("stopped supervisor backend (db#0, cache#0, api#0)", stop.Stdout);
        InstanceInfo[] list = await _home.WaitForAsync(l => l.Count(i => i.Status == "stopped") == 3, "backend's apps stopped");
        Assert.Equal(before["web"], Pid(list, "web"));
        Assert.Equal(["api", "cache", "db"], StampedApps("term"));
        Assert.Equal("stopped", (await TreeAsync()).Children.Single(c => c.Name == "backend").Status);

        CliResult start = await _home.OkAsync("start", "backend");

        Assert.StartsWith("started supervisor backend (db#0, cache#0, api#0)", start.Stdout);
        list = await _home.WaitForAsync(l => l.All(i => i.Status == "online"), "all online again");
        Assert.Equal(before["web"], Pid(list, "web"));
        Assert.Equal(["web", "db", "cache", "api", "db", "cache", "api"], SpawnedApps());
        Assert.Equal("running", (await TreeAsync()).Children.Single(c => c.Name == "backend").Status);

        await _home.OkAsync("restart", "backend");

        list = await _home.WaitForAsync(l => l.All(i => i.Status == "online") && SpawnedApps().Length == 10, "backend restarted");
        Assert.Equal(before["web"], Pid(list, "web"));
        Assert.Equal(["web", "db", "cache", "api", "db", "cache", "api", "db", "cache", "api"], SpawnedApps());
    }

    private async Task<TreeNodeInfo> TreeAsync() =>
        System.Text.Json.JsonSerializer.Deserialize((await _home.OkAsync("tree", "--json")).Stdout, TendJsonContext.Default.TreeNodeInfo)!;

    [Theory]
    [InlineData("always", "exit0", true)]
    [InlineData("always", "exit1", true)]
    [InlineData("always", "kill", true)]
    [InlineData("on-failure", "exit0", false)]
    [InlineData("on-failure", "exit1", true)]
    [InlineData("on-failure", "kill", true)]
    [InlineData("never", "exit0", false)]
    [InlineData("never", "exit1", false)]
    [InlineData("never", "kill", false)]
    public async Task RestartType_DecidesWhetherTheStrategyActs(string restart, string how, bool restarted)
    {
        string once = Path.Combine(_home.Dir, "once");
        string args = how == "kill"
            ? $"[--stamp, {Stamps}, --sleep]"
            : $"[--stamp, {Stamps}, --exit-after, 300ms, --exit-code, \"{(how == "exit1" ? 1 : 0)}\", --once, {once}]";
        string config = _home.WriteConfig($"""
            apps:
            {App("a")}
              t:
                cmd: {TendHome.Child}
                args: {args}
                restart: {restart}
            supervisors:
              s:
                strategy: one_for_all
                max_restarts: 10
                within: 1m
                children: [a, t]
            """);
        await _home.OkAsync("start", config);
        if (how == "kill")
        {
            await _home.WaitForAsync(l => l.All(i => i.Status == "online"), "a and t online");
            await _home.OkAsync("signal", "SIGKILL", "t");
        }

        // Pids from the daemon's own started events: t may exit before any list could see it.
        if (restarted)
        {
            // The log first, then the list: a list taken before the restart would still show the first run online.
            var (spawned, list) = await Eventually.ReturnsAsync(
                async () => (SpawnedApps(), await _home.ListAsync()),
                x => x.Item1.Length == 4 && x.Item2.All(i => i.Status == "online"), "a and t started again");
            Assert.Equal(["a", "t", "a", "t"], spawned);
            Assert.Equal(SpawnedPids("a")[1], Pid(list, "a"));
        }
        else
        {
            // The decision is taken before the instance shows stopped: nothing can follow.
            InstanceInfo[] list = await _home.WaitForAsync(l => l.Single(i => i.Name == "t").Status == "stopped", "t stopped");
            Assert.Equal(SpawnedPids("a").Single(), Pid(list, "a"));
            Assert.Equal(["a", "t"], SpawnedApps());
        }
    }

    [Fact]
    public async Task Root_GivesUp_AfterItsSupervisorsKeepFailing_TreeFailedDaemonUp()
    {
        string config = _home.WriteConfig($"""
            apps:
              x:
                cmd: {TendHome.Child}
                args: [--exit-after, 100ms, --exit-code, "1"]
            supervisors:
              s:
                max_restarts: 0
                children: [x]
            """);
        await _home.OkAsync("start", config);

        TreeNodeInfo root = await Eventually.ReturnsAsync(TreeAsync, r => r.Status == "failed", "the tree failed");

        Assert.Equal(3, root.Restarts);
        Assert.Contains("supervisor root gave up: more than 3 restarts within 1m", root.Reason);
        Assert.Equal("stopped", (await _home.ListAsync()).Single().Status);
        Assert.Contains("supervision tree failed", File.ReadAllText(Path.Combine(_home.Dir, "daemon.log")));
        await _home.OkAsync("ping");
    }

    [Fact]
    public async Task Root_ConfiguredIntensity_AllowsMoreEscalationsBeforeGivingUp()
    {
        string config = _home.WriteConfig($"""
            apps:
              x:
                cmd: {TendHome.Child}
                args: [--exit-after, 100ms, --exit-code, "1"]
            root:
              max_restarts: 5
              within: 10m
            supervisors:
              s:
                max_restarts: 0
                children: [x]
            """);
        await _home.OkAsync("start", config);

        TreeNodeInfo root = await Eventually.ReturnsAsync(TreeAsync, r => r.Status == "failed", "the tree failed");

        // s failed six times: the first five were restarted fresh (the default would stop at three).
        Assert.Equal((5, 5, 600_000L), (root.Restarts, root.MaxRestarts, root.WithinMs));
        Assert.StartsWith("supervisor root gave up: more than 5 restarts within 10m", root.Reason);
        Assert.Equal(6, SpawnedApps().Length);
    }

    [Fact]
    public async Task AutoShutdown_AnySignificant_JobDone_SupervisorStopsItsChildren()
    {
        string config = _home.WriteConfig($"""
            apps:
            {App("db")}
              job:
                cmd: {TendHome.Child}
                args: [--stamp, {Stamps}, --exit-after, 300ms]
                restart: on-failure
                significant: true
            {App("web")}
            supervisors:
              batch:
                auto_shutdown: any_significant
                restart: on-failure
                children: [db, job]
            """);
        await _home.OkAsync("start", config);

        TreeNodeInfo root = await Eventually.ReturnsAsync(TreeAsync, r => r.Children.Single(c => c.Name == "batch").Status == "stopped", "batch shut down");

        Assert.StartsWith("auto_shutdown (any_significant): job#0 exited (exit code 0) and is not restarted", root.Children.Single(c => c.Name == "batch").Reason);
        InstanceInfo[] list = await _home.ListAsync();
        Assert.Equal("stopped", list.Single(i => i.Name == "db").Status);
        Assert.Equal("online", list.Single(i => i.Name == "web").Status);
        Assert.Equal(["db"], StampedApps("term"));
    }

    [Fact]
    public async Task AutoShutdown_AllSignificant_WaitsForTheLast()
    {
        string config = _home.WriteConfig($"""
            apps:
            {App("db")}
            {App("j1", "never")}
                significant: true
            {App("j2", "never")}
                significant: true
            supervisors:
              batch:
                auto_shutdown: all_significant
                restart: never
                children: [db, j1, j2]
            """);
        await _home.OkAsync("start", config);
        await _home.WaitForAsync(l => l.Length == 3 && l.All(i => i.Status == "online"), "all online");

        await _home.OkAsync("signal", "SIGKILL", "j2");
        await _home.WaitForAsync(l => l.Single(i => i.Name == "j2").Status == "stopped", "j2 ended");
        Assert.Equal("running", (await TreeAsync()).Children.Single().Status);
        Assert.Equal("online", (await _home.ListAsync()).Single(i => i.Name == "db").Status);

        await _home.OkAsync("signal", "SIGKILL", "j1");

        await Eventually.ReturnsAsync(TreeAsync, r => r.Children.Single().Status == "stopped", "batch shut down");
        Assert.Equal("stopped", (await _home.ListAsync()).Single(i => i.Name == "db").Status);
    }

    [Fact]
    public async Task AutoShutdown_NeverOnAManualStop()
    {
        string config = _home.WriteConfig($"""
            apps:
            {App("db")}
            {App("job", "on-failure")}
                significant: true
            supervisors:
              batch:
                auto_shutdown: any_significant
                restart: on-failure
                children: [db, job]
            """);
        await _home.OkAsync("start", config);
        await _home.WaitForAsync(l => l.Length == 2 && l.All(i => i.Status == "online"), "all online");

        await _home.OkAsync("stop", "job");

        await _home.WaitForAsync(l => l.Single(i => i.Name == "job").Status == "stopped", "job stopped");
        Assert.Equal("running", (await TreeAsync()).Children.Single().Status);
        Assert.Equal("online", (await _home.ListAsync()).Single(i => i.Name == "db").Status);
        Assert.DoesNotContain("shutting down", File.ReadAllText(Path.Combine(_home.Dir, "daemon.log")));
    }

    [Fact]
    public async Task CrashLoopGuard_StillAppliesUnderOneForOne_AndEachRestartCountsForTheSupervisor()
    {
        string config = _home.WriteConfig($"""
            apps:
            {App("db")}
              crashy:
                cmd: {TendHome.Child}
                args: [--exit-after, 0ms, --exit-code, "3"]
                max_restarts: 2
                min_uptime: 5s
                backoff: {"{"} initial: 10ms, max: 50ms {"}"}
            supervisors:
              s:
                max_restarts: 100
                within: 1m
                children: [db, crashy]
            """);
        await _home.OkAsync("start", config);

        InstanceInfo[] list = await _home.WaitForAsync(l => l.Single(i => i.Name == "crashy").Status == "errored", "crashy errored");

        // The app's guard gave up after its own max_restarts; the supervisor saw each restart
        // (and not the last exit, which nothing restarted) and is still running, db untouched.
        Assert.Equal(2, list.Single(i => i.Name == "crashy").Restarts);
        TreeNodeInfo s = (await TreeAsync()).Children.Single();
        Assert.Equal(("running", 2), (s.Status, s.Restarts));
        Assert.Equal(SpawnedPids("db").Single(), Pid(list, "db"));
    }

    [Fact]
    public async Task Shutdown_BrutalKill_TimeoutKill_AndInfinityWaits()
    {
        string config = _home.WriteConfig($"""
            apps:
              patient:
                cmd: {TendHome.Child}
                args: [--stamp, {Stamps}, --ignore-term, --sleep]
                kill_timeout: infinity
              stubborn:
                cmd: {TendHome.Child}
                args: [--stamp, {Stamps}, --ignore-term, --sleep]
                kill_timeout: 300ms
              brutal:
                cmd: {TendHome.Child}
                args: [--stamp, {Stamps}, --sleep]
                kill_timeout: 0
            supervisors:
              s:
                children: [patient, stubborn, brutal]
            """);
        await _home.OkAsync("start", config);
        await _home.WaitForAsync(l => l.Length == 3 && l.All(i => i.Status == "online"), "all online");

        Task<CliResult> stop = _home.RunAsync("stop", "s");

        // Reverse order: brutal gets SIGKILL at once (no term stamp), stubborn ignores SIGTERM and
        // is killed after its timeout, patient is waited for until something else ends it.
        await _home.WaitForAsync(l => l.Single(i => i.Name == "patient").Status == "stopping", "patient stopping");
        InstanceInfo[] list = await _home.ListAsync();
        Assert.Equal("stopped", list.Single(i => i.Name == "brutal").Status);
        Assert.Equal("SIGKILL", list.Single(i => i.Name == "brutal").ExitSignal);
        Assert.Equal("SIGKILL", list.Single(i => i.Name == "stubborn").ExitSignal);
        Assert.Equal(["stubborn", "patient"], StampedApps("term"));
        Assert.False(stop.IsCompleted, "stop returned while patient was still running");

        await _home.OkAsync("signal", "SIGKILL", "patient");

        CliResult result = await stop.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.All(await _home.ListAsync(), i => Assert.Equal("stopped", i.Status));
    }

    [Fact]
    public async Task StartAgain_SameTree_ChangesNothing_DeleteAllRemovesTheTree()
    {
        string yaml = $"""
            apps:
            {App("a")}
            {App("b")}
            supervisors:
              s:
                strategy: one_for_all
                children: [a, b]
            """;
        Dictionary<string, int> before = await StartAsync(yaml, "a", "b");

        CliResult again = await _home.OkAsync("start", _home.WriteConfig(yaml));

        Assert.StartsWith("nothing to start (the tree of", again.Stdout);
        InstanceInfo[] list = await _home.ListAsync();
        Assert.Equal(before["a"], Pid(list, "a"));
        Assert.Equal(before["b"], Pid(list, "b"));

        await _home.OkAsync("delete", "all");

        Assert.Empty((await TreeAsync()).Children);
    }
}
