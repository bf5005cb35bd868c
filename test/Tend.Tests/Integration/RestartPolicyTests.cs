using Tend.Tests.Support;

namespace Tend.Tests.Integration;

/// <summary>Crash loops, the stop ladder, grandchildren and max_memory, on real processes.</summary>
public sealed class RestartPolicyTests : IAsyncLifetime
{
    private readonly TendHome _home = new();

    public Task InitializeAsync() => Task.CompletedTask;
    public async Task DisposeAsync() => await _home.DisposeAsync();

    [Fact]
    public async Task CrashLoop_EndsErrored_AfterMaxRestarts()
    {
        string config = _home.WriteConfig($"""
            apps:
              crashy:
                cmd: {TendHome.Child}
                args: [--exit-after, 0ms, --exit-code, "3"]
                max_restarts: 3
                min_uptime: 5s
                backoff: {"{"} initial: 10ms, max: 50ms {"}"}
            """);
        await _home.OkAsync("start", config);

        var list = await _home.WaitForAsync(l => l.Single().Status == "errored", "crashy errored");

        var crashy = list.Single();
        Assert.Equal(3, crashy.Restarts);
        Assert.Equal(3, crashy.ExitCode);
        Assert.Null(crashy.Pid);
        var detail = (await _home.DescribeAsync("crashy")).Instances.Single();
        Assert.Contains("crash loop: 4 runs in a row shorter than min_uptime 5s (max_restarts 3)", detail.StatusReason);
        Assert.Equal(4, detail.RecentExits.Count);
    }

    [Fact]
    public async Task OnFailure_CleanExit_StaysStopped()
    {
        string config = _home.WriteConfig($"""
            apps:
              job:
                cmd: {TendHome.Child}
                args: [--exit-after, 100ms]
                restart: on-failure
              coded:
                cmd: {TendHome.Child}
                args: [--exit-after, 100ms, --exit-code, "7"]
                restart: on-failure
                stop_exit_codes: [7]
            """);
        await _home.OkAsync("start", config);

        var list = await _home.WaitForAsync(l => l.All(i => i.Status == "stopped"), "both stopped");
        Assert.All(list, i => Assert.Equal(0, i.Restarts));
        Assert.Equal(0, list.Single(i => i.Name == "job").ExitCode);
        Assert.Equal(7, list.Single(i => i.Name == "coded").ExitCode);
    }

    [Fact]
    public async Task IgnoringSigterm_IsKilledAfterKillTimeout()
    {
        string config = _home.WriteConfig($"""
            apps:
              stubborn:
                cmd: {TendHome.Child}
                args: [--ignore-term, --sleep]
                kill_timeout: 500ms
            """);
        await _home.OkAsync("start", config);
        var before = await _home.WaitForAsync(l => l.Single().Status == "online", "stubborn online");

        await _home.OkAsync("stop", "stubborn");

        Assert.False(ProcFs.IsRunning(before.Single().Pid!.Value));
        var exit = (await _home.DescribeAsync("stubborn")).Instances.Single().RecentExits.Last();
        Assert.Equal("SIGKILL", exit.ExitSignal);
        Assert.Equal("stopped", exit.Reason);
    }

    [Fact]
    public async Task Grandchildren_DoNotSurviveStopOrParentCrash()
    {
        string gcFile = Path.Combine(_home.Dir, "gc.pid");
        string config = _home.WriteConfig($"""
            apps:
              parent:
                cmd: {TendHome.Child}
                args: [--grandchild, {gcFile}, --sleep]
            """);
        await _home.OkAsync("start", config);
        var first = await _home.WaitForAsync(l => l.Single().Status == "online", "parent online");
        int gc1 = await Eventually.ReturnsAsync(() => ReadPid(gcFile), p => p > 0, "first grandchild pid");
        File.Delete(gcFile);

        // The parent crashes: its grandchild goes with it, and the restart makes a new one.
        ProcFs.Kill(first.Single().Pid!.Value, 9);
        await Eventually.TrueAsync(() => !ProcFs.IsRunning(gc1), "first grandchild gone after parent SIGKILL");
        await _home.WaitForAsync(l => l.Single() is { Status: "online", Restarts: 1 }, "parent restarted");
        int gc2 = await Eventually.ReturnsAsync(() => ReadPid(gcFile), p => p > 0, "second grandchild pid");
        Assert.True(ProcFs.IsRunning(gc2));

        // A stop takes the whole group.
        await _home.OkAsync("stop", "parent");
        await Eventually.TrueAsync(() => !ProcFs.IsRunning(gc2), "second grandchild gone after stop");
        Assert.Equal([_home.DaemonPid!.Value], _home.LiveProcesses());
    }

    [Fact]
    public async Task MaxMemory_Exceeded_RestartsWithReason()
    {
        string config = _home.WriteConfig($"""
            apps:
              hog:
                cmd: {TendHome.Child}
                args: [--alloc, "120", --sleep]
                max_memory: 60M
                min_uptime: 0s
            """);
        await _home.OkAsync("start", config);

        await _home.WaitForAsync(l => l.Single().Restarts >= 1, "hog restarted for memory");

        var detail = (await _home.DescribeAsync("hog")).Instances.Single();
        Assert.StartsWith("max_memory", detail.LastRestartReason);
    }

    private static int ReadPid(string file)
    {
        try { return int.TryParse(File.ReadAllText(file).Trim(), out int p) ? p : 0; }
        catch (IOException) { return 0; }
    }
}
