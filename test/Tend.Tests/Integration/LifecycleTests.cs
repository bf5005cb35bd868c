using Tend.Api;
using Tend.Tests.Support;

namespace Tend.Tests.Integration;

/// <summary>The PM2 basics through the real CLI and a real daemon: start, list, stop, restart, delete, signal.</summary>
public sealed class LifecycleTests : IAsyncLifetime
{
    private readonly TendHome _home = new();

    public Task InitializeAsync() => Task.CompletedTask;
    public async Task DisposeAsync() => await _home.DisposeAsync();

    private string TwoApps() => _home.WriteConfig($"""
        apps:
          web:
            cmd: {TendHome.Child}
            args: [--sleep]
            instances: 2
          worker:
            cmd: {TendHome.Child}
            args: [--sleep]
        """);

    [Fact]
    public async Task Start_Config_ListsEveryInstanceOnlineWithLivePids()
    {
        await _home.OkAsync("start", TwoApps());

        InstanceInfo[] list = await _home.WaitForAsync(l => l.Length == 3 && l.All(i => i.Status == "online"), "3 online instances");

        Assert.Equal(["web#0", "web#1", "worker#0"], list.Select(i => $"{i.Name}#{i.Instance}"));
        Assert.All(list, i => Assert.True(ProcFs.IsRunning(i.Pid!.Value), $"pid {i.Pid} of {i.Name}#{i.Instance} is not running"));
        Assert.All(list, i => Assert.True(i.Ready));
        Assert.Equal(3, list.Select(i => i.Id).Distinct().Count());
    }

    [Fact]
    public async Task Stop_App_EndsItsProcessesAndKeepsOthers()
    {
        await _home.OkAsync("start", TwoApps());
        var before = await _home.WaitForAsync(l => l.Length == 3 && l.All(i => i.Status == "online"), "3 online");

        await _home.OkAsync("stop", "web");

        var after = await _home.ListAsync();
        Assert.All(after.Where(i => i.Name == "web"), i => { Assert.Equal("stopped", i.Status); Assert.Null(i.Pid); });
        Assert.All(before.Where(i => i.Name == "web"), i => Assert.False(ProcFs.IsRunning(i.Pid!.Value)));
        var worker = Assert.Single(after, i => i.Name == "worker");
        Assert.Equal(before.Single(i => i.Name == "worker").Pid, worker.Pid);
    }

    [Fact]
    public async Task Restart_Instance_GivesNewPidAndCountsRestart()
    {
        await _home.OkAsync("start", TwoApps());
        var before = await _home.WaitForAsync(l => l.Length == 3 && l.All(i => i.Status == "online"), "3 online");

        await _home.OkAsync("restart", "web#1");

        var after = await _home.WaitForAsync(l => l.Single(i => i.Name == "web" && i.Instance == 1).Status == "online", "web#1 online");
        var old = before.Single(i => i.Name == "web" && i.Instance == 1);
        var now = after.Single(i => i.Name == "web" && i.Instance == 1);
        Assert.NotEqual(old.Pid, now.Pid);
        Assert.Equal(1, now.Restarts);
        Assert.Equal(before.Single(i => i.Name == "web" && i.Instance == 0).Pid, after.Single(i => i.Name == "web" && i.Instance == 0).Pid);
    }

    [Fact]
    public async Task Delete_App_RemovesItFromList()
    {
        await _home.OkAsync("start", TwoApps());
        var before = await _home.WaitForAsync(l => l.Length == 3 && l.All(i => i.Status == "online"), "3 online");

        await _home.OkAsync("delete", "worker");

        var after = await _home.ListAsync();
        Assert.DoesNotContain(after, i => i.Name == "worker");
        Assert.False(ProcFs.IsRunning(before.Single(i => i.Name == "worker").Pid!.Value));
    }

    [Fact]
    public async Task KillDashNine_OfChild_RestartsWithNewPid()
    {
        await _home.OkAsync("start", TwoApps());
        var before = await _home.WaitForAsync(l => l.Length == 3 && l.All(i => i.Status == "online"), "3 online");
        int victim = before.Single(i => i.Name == "worker").Pid!.Value;

        ProcFs.Kill(victim, 9);

        var after = await _home.WaitForAsync(
            l => l.Single(i => i.Name == "worker") is { Status: "online", Restarts: 1 } w && w.Pid != victim, "worker restarted");
        var worker = after.Single(i => i.Name == "worker");
        Assert.True(ProcFs.IsRunning(worker.Pid!.Value));
        Assert.Equal("SIGKILL", worker.ExitSignal);
        Assert.Null(worker.ExitCode);
    }

    [Fact]
    public async Task Signal_MainProcessByDefault_GroupOnRequest_WorkersUntouchedOtherwise()
    {
        string log = Path.Combine(_home.Dir, "signals.log");
        // A master that forks a worker, like gunicorn: each says which signal reached it.
        string script = _home.WriteConfig("""
            log="$1"
            (
              trap 'echo "worker HUP" >> "$log"' HUP
              while :; do sleep 0.05; done
            ) &
            trap 'echo "main HUP" >> "$log"' HUP
            echo ready >> "$log"
            while :; do sleep 0.05; done
            """, "master.sh");
        string config = _home.WriteConfig($"""
            apps:
              master:
                cmd: /bin/sh
                args: [{script}, {log}]
                reload_signal: SIGHUP
            """);
        await _home.OkAsync("start", config);
        await Eventually.TrueAsync(() => File.Exists(log) && File.ReadAllText(log).Contains("ready"), "master started");
        await Task.Delay(300);
        int pid = (await _home.ListAsync()).Single().Pid!.Value;

        CliResult main = await _home.OkAsync("signal", "SIGHUP", "master");
        Assert.Contains("main process", main.Stdout);
        await Eventually.TrueAsync(() => Count(log, "main HUP") == 1, "the master got SIGHUP");
        await Task.Delay(500);
        Assert.Equal(0, Count(log, "worker HUP"));

        await _home.OkAsync("signal", "--group", "SIGHUP", "master");
        await Eventually.TrueAsync(() => Count(log, "main HUP") == 2 && Count(log, "worker HUP") == 1, "both got SIGHUP with --group");

        // reload_signal: `tend reload` is the signal to the master, in place: same pid, no restart.
        CliResult reload = await _home.OkAsync("reload", "master");
        Assert.Contains("in place", reload.Stdout);
        await Eventually.TrueAsync(() => Count(log, "main HUP") == 3, "reload sent SIGHUP to the master");
        await Task.Delay(500);
        Assert.Equal(1, Count(log, "worker HUP"));
        InstanceInfo after = (await _home.ListAsync()).Single();
        Assert.Equal(pid, after.Pid);
        Assert.Equal(0, after.Restarts);
        AppInfo described = await _home.DescribeAsync("master");
        Assert.Equal("SIGHUP", described.ReloadSignal);
        Assert.Equal(new BackoffInfo(100, 15_000, 2, 0.1), described.Backoff);
        Assert.Contains("backoff         100ms × 2 per restart, at most 15s", (await _home.OkAsync("describe", "master")).Stdout);

        CliResult both = await _home.RunAsync("signal", "--main", "--group", "SIGHUP", "master");
        Assert.Equal(2, both.ExitCode);
    }

    private static int Count(string file, string line) => File.ReadAllLines(file).Count(l => l == line);

    [Fact]
    public async Task Signal_DefaultActionEndsTheMainProcess_AndItRestarts()
    {
        await _home.OkAsync("start", TwoApps());
        var before = await _home.WaitForAsync(l => l.Length == 3 && l.All(i => i.Status == "online"), "3 online");

        await _home.OkAsync("signal", "SIGUSR1", "worker");

        var after = await _home.WaitForAsync(l => l.Single(i => i.Name == "worker") is { Restarts: 1, Status: "online" }, "worker restarted after SIGUSR1");
        Assert.Equal("SIGUSR1", after.Single(i => i.Name == "worker").ExitSignal);
    }

    [Fact]
    public async Task UnknownTarget_ExitsOneWithSuggestion_AndBadSignalExitsTwo()
    {
        await _home.OkAsync("start", TwoApps());

        CliResult unknown = await _home.RunAsync("stop", "wokrer");
        Assert.Equal(1, unknown.ExitCode);
        Assert.Contains("unknown target \"wokrer\"", unknown.Stderr);
        Assert.Contains("did you mean \"worker\"?", unknown.Stderr);

        CliResult badSignal = await _home.RunAsync("signal", "SIGNOPE", "worker");
        Assert.Equal(2, badSignal.ExitCode);
        Assert.Contains("unknown signal 'SIGNOPE'", badSignal.Stderr);

        CliResult noInstance = await _home.RunAsync("restart", "web#7");
        Assert.Equal(1, noInstance.ExitCode);
        Assert.Contains("web has no instance #7", noInstance.Stderr);
    }

    [Fact]
    public async Task SeveralTargets_AsPm2Takes_EachIsActedOnAndNothingElse()
    {
        await _home.OkAsync("start", TwoApps());
        var before = await _home.WaitForAsync(l => l.Length == 3 && l.All(i => i.Status == "online"), "3 online");
        int Pid(InstanceInfo[] l, string name, int n) => l.Single(i => i.Name == name && i.Instance == n).Pid!.Value;

        CliResult stop = await _home.OkAsync("stop", "worker", "web#1");

        Assert.Contains("stopped worker#0", stop.Stdout);
        Assert.Contains("stopped web#1", stop.Stdout);
        var after = await _home.ListAsync();
        Assert.Equal(["web#0 online", "web#1 stopped", "worker#0 stopped"], after.Select(i => $"{i.Name}#{i.Instance} {i.Status}"));
        Assert.Equal(Pid(before, "web", 0), Pid(after, "web", 0));
        Assert.False(ProcFs.IsRunning(Pid(before, "worker", 0)));

        // `pm2 start api worker`: a start of several known apps starts each; a typo among them starts none.
        CliResult typo = await _home.RunAsync("start", "worker", "wokrer");
        Assert.Equal(1, typo.ExitCode);
        Assert.Contains("no app or instance \"wokrer\"", typo.Stderr);
        Assert.Equal("stopped", (await _home.ListAsync()).Single(i => i.Name == "worker").Status);
        await _home.OkAsync("start", "worker", "web#1");
        await _home.WaitForAsync(l => l.All(i => i.Status == "online"), "worker and web#1 started again");

        string id = after.Single(i => i.Name == "worker").Id.ToString(System.Globalization.CultureInfo.InvariantCulture);
        CliResult restart = await _home.OkAsync("restart", "web#0", id, "web");

        var restarted = await _home.WaitForAsync(l => l.All(i => i.Status == "online"), "all online again");
        Assert.NotEqual(Pid(before, "web", 0), Pid(restarted, "web", 0));
        // web#0 is in web: restarted once, not twice.
        Assert.DoesNotContain("restarted web#0\n", restart.Stdout);
        Assert.Equal(1, restarted.Single(i => i.Name == "web" && i.Instance == 0).Restarts);
    }

    [Fact]
    public async Task SeveralTargets_OneUnknown_NothingIsDone()
    {
        await _home.OkAsync("start", TwoApps());
        var before = await _home.WaitForAsync(l => l.Length == 3 && l.All(i => i.Status == "online"), "3 online");

        CliResult result = await _home.RunAsync("stop", "worker", "wokrer");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("\"wokrer\"", result.Stderr);
        Assert.Contains("nothing was done", result.Stderr);
        var after = await _home.ListAsync();
        Assert.All(after, i => Assert.Equal("online", i.Status));
        Assert.Equal(before.Select(i => i.Pid), after.Select(i => i.Pid));
    }

    [Fact]
    public async Task Delete_ById_DeletesAOneInstanceApp_ButNotOneOfSeveral()
    {
        await _home.OkAsync("start", TwoApps());
        var before = await _home.WaitForAsync(l => l.Length == 3 && l.All(i => i.Status == "online"), "3 online");
        string Id(string name, int n) => before.Single(i => i.Name == name && i.Instance == n).Id.ToString(System.Globalization.CultureInfo.InvariantCulture);

        CliResult partial = await _home.RunAsync("delete", Id("web", 1));
        Assert.Equal(1, partial.ExitCode);
        Assert.Contains("one of the 2 instances of web", partial.Stderr);
        Assert.Contains("tend scale web -1", partial.Stderr);
        Assert.Equal(3, (await _home.ListAsync()).Length);

        CliResult whole = await _home.OkAsync("delete", Id("worker", 0));
        Assert.Contains("deleted worker", whole.Stdout);
        var after = await _home.ListAsync();
        Assert.DoesNotContain(after, i => i.Name == "worker");
        Assert.False(ProcFs.IsRunning(before.Single(i => i.Name == "worker").Pid!.Value));
        Assert.Equal(2, after.Count(i => i.Name == "web" && i.Status == "online"));
    }

    [Fact]
    public async Task Reload_OfAStoppedApp_SaysNothingRanAndLeavesItStopped()
    {
        await _home.OkAsync("start", TwoApps());
        await _home.WaitForAsync(l => l.Length == 3 && l.All(i => i.Status == "online"), "3 online");
        await _home.OkAsync("stop", "worker");

        CliResult reload = await _home.OkAsync("reload", "worker");

        Assert.Contains("nothing running in worker to reload", reload.Stdout);
        Assert.DoesNotContain("reloaded", reload.Stdout);
        Assert.Equal("stopped", (await _home.ListAsync()).Single(i => i.Name == "worker").Status);
    }

    [Fact]
    public async Task StartCommand_WithNameAndInstances_RunsIt()
    {
        await _home.OkAsync("start", "--name", "adhoc", "-i", "2", TendHome.Child, "--", "--sleep");

        var list = await _home.WaitForAsync(l => l.Length == 2 && l.All(i => i.Status == "online"), "2 adhoc online");
        Assert.All(list, i => Assert.Equal("adhoc", i.Name));
    }

    [Fact]
    public async Task Environment_HasTendVarsAndIncrementVar()
    {
        string config = _home.WriteConfig($"""
            apps:
              envy:
                cmd: {TendHome.Child}
                args: [--print-env, --sleep]
                instances: 2
                env: {"{"} PORT: "4000", EXTRA: "yes" {"}"}
                increment_var: PORT
            """);
        await _home.OkAsync("start", config);
        await _home.WaitForAsync(l => l.Length == 2 && l.All(i => i.Status == "online"), "envy online");

        for (int n = 0; n < 2; n++)
        {
            string log = Path.Combine(_home.LogsDir, $"envy-{n}.out.log");
            string text = await Eventually.ReturnsAsync(() => File.Exists(log) ? File.ReadAllText(log) : "", t => t!.Contains("TEND_INSTANCE="), $"env printed by envy#{n}");
            Assert.Contains($"TEND_APP=envy", text);
            Assert.Contains($"TEND_INSTANCE={n}", text);
            Assert.Contains($"PORT={4000 + n}", text);
            Assert.Contains("EXTRA=yes", text);
        }
    }
}
