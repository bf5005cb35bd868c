using Tend.Tests.Support;

namespace Tend.Tests.Integration;

/// <summary>The declared state survives the daemon: SIGKILL, graceful stop, save and resurrect.</summary>
public sealed class StateTests : IAsyncLifetime
{
    private readonly TendHome _home = new();

    public Task InitializeAsync() => Task.CompletedTask;
    public async Task DisposeAsync() => await _home.DisposeAsync();

    private string Config() => _home.WriteConfig($"""
        apps:
          web:
            cmd: {TendHome.Child}
            args: [--sleep]
            instances: 2
          worker:
            cmd: {TendHome.Child}
            args: [--sleep]
          idle:
            cmd: {TendHome.Child}
            args: [--sleep]
        """);

    [Fact]
    public async Task DaemonSigkill_NextStartRestoresSameInstances_NoDuplicatesNoOrphans()
    {
        await _home.OkAsync("start", Config());
        await _home.OkAsync("stop", "idle");
        var before = await _home.WaitForAsync(l => l.Count(i => i.Status == "online") == 3, "3 online");
        int oldDaemon = _home.DaemonPid!.Value;

        ProcFs.Kill(oldDaemon, 9);
        await Eventually.TrueAsync(() => !ProcFs.IsRunning(oldDaemon), "old daemon gone");

        // Any command brings the daemon back, which restores the declared state.
        var after = await _home.WaitForAsync(l => l.Count(i => i.Status == "online") == 3, "3 online again");
        Assert.Equal(before.Select(i => (i.Id, i.Name, i.Instance)), after.Select(i => (i.Id, i.Name, i.Instance)));
        Assert.Equal("stopped", after.Single(i => i.Name == "idle").Status);
        Assert.All(before.Where(i => i.Pid is not null), i => Assert.False(ProcFs.IsRunning(i.Pid!.Value), $"orphan {i.Pid} still running"));

        int newDaemon = _home.DaemonPid!.Value;
        Assert.NotEqual(oldDaemon, newDaemon);
        var expected = after.Where(i => i.Pid is not null).Select(i => i.Pid!.Value).Append(newDaemon).Order();
        await Eventually.TrueAsync(() => _home.LiveProcesses().Order().SequenceEqual(expected), "exactly the daemon and 3 instances alive");
    }

    [Fact]
    public async Task SaveDeleteResurrect_BringsAppsBack_AndCorruptDumpUsesBackup()
    {
        await _home.OkAsync("start", Config());
        await _home.WaitForAsync(l => l.Count(i => i.Status == "online") == 4, "4 online");
        await _home.OkAsync("save");
        await _home.OkAsync("save"); // the second save keeps the first as dump.json.bak

        await _home.OkAsync("delete", "all");
        Assert.Empty(await _home.ListAsync());

        File.WriteAllText(Path.Combine(_home.Dir, "dump.json"), "{ this is not json");
        CliResult resurrect = await _home.OkAsync("resurrect");
        Assert.Contains("dump.json.bak", resurrect.Stdout + resurrect.Stderr);

        var list = await _home.WaitForAsync(l => l.Count(i => i.Status == "online") == 4, "4 online after resurrect");
        Assert.Equal(["web", "web", "worker", "idle"], list.Select(i => i.Name));
    }

    [Fact]
    public async Task DaemonSigterm_StopsAppsInReverseStartOrder_AndExitsZero()
    {
        string stamps = Path.Combine(_home.Dir, "stamps");
        string config = _home.WriteConfig($"""
            apps:
              first:
                cmd: {TendHome.Child}
                args: [--stamp, {stamps}, --sleep]
              second:
                cmd: {TendHome.Child}
                args: [--stamp, {stamps}, --sleep]
              third:
                cmd: {TendHome.Child}
                args: [--stamp, {stamps}, --sleep]
            """);
        await _home.OkAsync("start", config);
        var list = await _home.WaitForAsync(l => l.All(i => i.Status == "online"), "all online");
        int daemon = _home.DaemonPid!.Value;

        ProcFs.Kill(daemon, 15);
        await Eventually.TrueAsync(() => !ProcFs.IsRunning(daemon), "daemon exited");

        var terms = File.ReadAllLines(stamps).Where(l => l.Split(' ')[1] == "term").Select(l => l.Split(' ')[3]).ToList();
        Assert.Equal(["third#0", "second#0", "first#0"], terms);
        Assert.All(list, i => Assert.False(ProcFs.IsRunning(i.Pid!.Value)));
        Assert.Contains("\"event_id\":2103", File.ReadAllText(Path.Combine(_home.Dir, "daemon.log")));
    }
}
