using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;
using Tend.Api;
using Tend.Processes;
using Tend.Tests.Support;

namespace Tend.Tests.Integration;

/// <summary>
/// Upgrading Tend without restarting the apps (docs/upgrade.md): `tend daemon upgrade` under load keeps
/// every pid, fails no request and loses no log line; the adopted runs are supervised as before.
/// A daemon killed without anyone holding its descriptors falls back to the documented restart.
/// </summary>
public sealed partial class UpgradeTests : IAsyncLifetime
{
    private readonly TendHome _home = new();

    public Task InitializeAsync() => Task.CompletedTask;
    public async Task DisposeAsync() => await _home.DisposeAsync();

    [GeneratedRegex(@"tick (\d+)$")]
    private static partial Regex Tick();

    /// <summary>The tick numbers in a log file, in file order.</summary>
    private static List<long> Ticks(string path) =>
        [.. File.ReadLines(path).Select(l => Tick().Match(l)).Where(m => m.Success).Select(m => long.Parse(m.Groups[1].Value))];

    /// <summary>Each run of the process counts from 1 again; within the last run, no number may be missing.</summary>
    private static void AssertNoTickMissing(string path)
    {
        List<long> ticks = Ticks(path);
        List<long> lastRun = ticks[ticks.LastIndexOf(1)..];
        Assert.True(lastRun.Count > 10, $"{path}: only {lastRun.Count} ticks in the last run");
        Assert.Equal(Enumerable.Range(1, lastRun.Count).Select(i => (long)i), lastRun);
    }

    [Fact]
    public async Task Upgrade_UnderLoad_SamePids_NoFailedRequest_NoLostLine_CountersAndReadinessCarriedOver()
    {
        int port = FreePorts.Next();
        await _home.OkAsync("start", _home.WriteConfig($$"""
            apps:
              web:
                cmd: {{TendHome.Child}}
                args: [--serve-fd3, --tick, "5"]
                instances: 2
                listen: 127.0.0.1:{{port}}
              notifier:
                cmd: {{TendHome.Child}}
                args: [--notify-ready-after, 100ms, --tick, "5"]
                ready: { notify: true, ready_timeout: 3s }
            """));
        await _home.WaitForAsync(l => l.Count(i => i.Status == "online" && i.Ready) == 3, "3 online and ready");
        await _home.OkAsync("restart", "notifier"); // a restart count to carry over
        var before = await _home.WaitForAsync(l => l.Count(i => i.Status == "online" && i.Ready) == 3, "3 ready again");
        int daemon = _home.DaemonPid!.Value;

        using var load = new CancellationTokenSource();
        long ok = 0, failed = 0;
        var failures = new List<string>();
        Task loop = Task.Run(async () =>
        {
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
            while (!load.IsCancellationRequested)
            {
                try
                {
                    using var response = await http.GetAsync($"http://127.0.0.1:{port}/");
                    if (response.IsSuccessStatusCode) Interlocked.Increment(ref ok);
                    else { Interlocked.Increment(ref failed); lock (failures) failures.Add(response.StatusCode.ToString()); }
                }
                catch (HttpRequestException e) { Interlocked.Increment(ref failed); lock (failures) failures.Add(e.Message); }
            }
        });
        await Eventually.TrueAsync(() => Interlocked.Read(ref ok) > 20, "the load loop gets answers");

        CliResult upgrade = await _home.RunAsync("daemon", "upgrade");
        Assert.True(upgrade.ExitCode == 0, upgrade.ToString());
        Assert.Contains("3 of 3 running instances carried over with their pids, none restarted", upgrade.Stdout);
        long okAtUpgrade = Interlocked.Read(ref ok);
        await Eventually.TrueAsync(() => Interlocked.Read(ref ok) > okAtUpgrade + 20, "answers after the upgrade");
        // Past the notifier's ready timeout (3 s): it was ready before and is not judged again for a READY=1 it sent long ago.
        await Task.Delay(TimeSpan.FromSeconds(4));
        load.Cancel();
        await loop;

        Assert.Equal(daemon, _home.DaemonPid);
        var after = await _home.ListAsync();
        Assert.Equal(before.Select(i => (i.Id, i.Pid, i.Restarts, i.Ready, i.Status)), after.Select(i => (i.Id, i.Pid, i.Restarts, i.Ready, i.Status)));
        Assert.Equal(1, after.Single(i => i.Name == "notifier").Restarts);
        Assert.True(failed == 0, $"{failed} failed requests of {ok + failed}: {string.Join("; ", failures.Take(5))}");

        // Every tick of every app, in order, none missing: including those written while no daemon read.
        foreach (string log in new[] { "web-0.out.log", "web-1.out.log", "notifier-0.out.log" })
            AssertNoTickMissing(Path.Combine(_home.LogsDir, log));
        string daemonLog = File.ReadAllText(Path.Combine(_home.Dir, "daemon.log"));
        Assert.Contains("adopted from the previous daemon (upgrade)", daemonLog);

        AppInfoCheck(await _home.DescribeAsync("web"));

        // The adopted runs are supervised as before: a crash of one is seen, with its exit status, and restarted.
        int victim = after.First(i => i.Name == "web").Pid!.Value;
        ProcFs.Kill(victim, 9);
        var restarted = await _home.WaitForAsync(l => l.Any(i => i.Name == "web" && i.Pid is int p && p != victim && i.Status == "online"), "the killed instance restarted");
        var describe = await _home.DescribeAsync("web");
        Assert.Contains(describe.Instances.SelectMany(i => i.RecentExits), e => e.Pid == victim && e.ExitSignal == "SIGKILL");
        await _home.OkAsync("stop", "all");
        Assert.All(after, i => Assert.False(ProcFs.IsRunning(i.Pid!.Value), $"{i.Name}#{i.Instance} pid {i.Pid} still runs after stop"));
    }

    private static void AppInfoCheck(Tend.Api.AppInfo web) =>
        Assert.All(web.Instances, i => Assert.Contains("adopted from the previous daemon (upgrade)", i.DaemonRestart));

    [Fact]
    public async Task Sigkill_UnderAServiceManagerWithAStore_TheNextDaemonAdoptsEveryRun_SamePids_NoMissingLine()
    {
        using var manager = new ServiceManagerStub(_home.Dir);
        var env = new Dictionary<string, string> { ["NOTIFY_SOCKET"] = manager.Path, ["TEND_FDSTORE"] = "1" };
        int port = FreePorts.Next();
        using Process first = await _home.RunDaemonAsync(env); // as systemd's ExecStart runs it
        CliResult started = await _home.RunAsync(["start", _home.WriteConfig($$"""
            apps:
              worker:
                cmd: {{TendHome.Child}}
                args: [--tick, "5"]
                instances: 2
              web:
                cmd: {{TendHome.Child}}
                args: [--serve-fd3]
                listen: 127.0.0.1:{{port}}
            """)]);
        Assert.True(started.ExitCode == 0, started.ToString());
        var before = await _home.WaitForAsync(l => l.Count(i => i.Status == "online") == 3, "3 online");
        // Every run's pipes and the app's socket are in the service manager's store.
        await Eventually.TrueAsync(() => before.All(i => manager.Stored.Contains($"out.{i.Id}") && manager.Stored.Contains($"err.{i.Id}"))
            && manager.Stored.Contains("listen.web.0"), "the descriptors in the store");

        int daemon = _home.DaemonPid!.Value;
        ProcFs.Kill(daemon, 9);
        await Eventually.TrueAsync(() => !ProcFs.IsRunning(daemon), "the daemon gone");
        await Task.Delay(300); // the workers write on, into pipes nobody reads for now

        // What systemd does after a crash: start the service again, with its store as LISTEN_FDS.
        var daemonEnv = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (System.Collections.DictionaryEntry e in Environment.GetEnvironmentVariables()) daemonEnv[(string)e.Key] = (string?)e.Value ?? "";
        daemonEnv["TEND_HOME"] = _home.Dir;
        foreach (var (k, v) in env) daemonEnv[k] = v;
        await using ChildProcess next = ChildProcess.Start(new SpawnRequest(TestPaths.Daemon, ["--home", _home.Dir, "--detached"], _home.Dir, daemonEnv)
        {
            ListenFds = manager.ForNextStart(),
            RedirectOutput = false,
        });
        // Until it answers, a `tend list` would start a daemon of its own (without the store) and race it for the home.
        string socket = Path.Combine(_home.Dir, Tend.Api.ApiRoutes.SocketFileName);
        await Eventually.TrueAsync(() => _home.DaemonPid == next.Pid && File.Exists(socket) || next.Exited.IsCompleted, "the next daemon listening");
        Assert.False(next.Exited.IsCompleted, "the next daemon exited:\n" + DaemonLogTail());
        InstanceInfo[] after;
        try { after = await _home.WaitForAsync(l => l.Count(i => i.Status == "online") == 3, "3 online under the next daemon"); }
        catch (TimeoutException e) { throw new TimeoutException(e.Message + "\n" + DaemonLogTail(), e); }
        Assert.Equal(next.Pid, _home.DaemonPid);
        Assert.Equal(before.Select(i => (i.Id, i.Pid)), after.Select(i => (i.Id, i.Pid)));
        using (var http = new HttpClient()) Assert.True((await http.GetAsync($"http://127.0.0.1:{port}/")).IsSuccessStatusCode);

        // The ticks written while no daemon read waited in the pipes: none missing.
        await Task.Delay(300);
        foreach (string log in new[] { "worker-0.out.log", "worker-1.out.log" })
            AssertNoTickMissing(Path.Combine(_home.LogsDir, log));
        var worker = await _home.DescribeAsync("worker");
        Assert.All(worker.Instances, i => Assert.Contains("adopted from the previous daemon (crash)", i.DaemonRestart));

        await _home.OkAsync("kill");
        await next.Exited;
        Assert.All(after, i => Assert.False(ProcFs.IsRunning(i.Pid!.Value), $"{i.Name}#{i.Instance} still runs after tend kill"));
    }

    [Fact]
    public async Task Upgrade_ProxyMode_KeepsTheListenerAndEachInstancesPort_AndServesAfterwards()
    {
        int port = FreePorts.Next();
        await _home.OkAsync("start", _home.WriteConfig($$"""
            apps:
              web:
                cmd: {{TendHome.Child}}
                args: [--serve-port, env]
                instances: 2
                listen: 127.0.0.1:{{port}}
                listen_mode: proxy
                ready: { tcp: "127.0.0.1:${PORT}" }
            """));
        var before = await _home.WaitForAsync(l => l.Count(i => i.Status == "online" && i.Ready) == 2, "2 ready");
        using var http = new HttpClient();
        Assert.True((await http.GetAsync($"http://127.0.0.1:{port}/")).IsSuccessStatusCode);

        CliResult upgrade = await _home.RunAsync("daemon", "upgrade");
        Assert.True(upgrade.ExitCode == 0, upgrade.ToString());
        var after = await _home.ListAsync();
        Assert.Equal(before.Select(i => (i.Id, i.Pid, i.Ready)), after.Select(i => (i.Id, i.Pid, i.Ready)));

        // The same listener, and each adopted instance still reached at the port it listens on: every
        // new connection after the hand-over is answered, by both instances.
        var pids = new HashSet<string>();
        for (int n = 0; n < 40; n++)
        {
            using var fresh = new HttpClient();
            HttpResponseMessage response = await fresh.GetAsync($"http://127.0.0.1:{port}/");
            Assert.True(response.IsSuccessStatusCode, $"request {n} after the upgrade: {response.StatusCode}");
            pids.Add(await response.Content.ReadAsStringAsync());
        }
        Assert.True(pids.Count >= 2, $"answers from {pids.Count} instance(s): {string.Join(" | ", pids)}");
    }

    [Fact]
    public async Task Upgrade_ToADaemonThatCannotStart_IsRefusedBeforeAnythingIsHandedOver()
    {
        await _home.OkAsync("start", _home.WriteConfig($"""
            apps:
              worker:
                cmd: {TendHome.Child}
                args: [--tick, "5"]
            """));
        var before = await _home.WaitForAsync(l => l.Any(i => i.Status == "online"), "worker online");
        int daemon = _home.DaemonPid!.Value;
        string broken = Path.Combine(_home.Dir, "tend-daemon");
        File.WriteAllText(broken, "#!/bin/sh\necho 'cannot find the runtime' >&2\nexit 3\n");
        File.SetUnixFileMode(broken, (UnixFileMode)0b111_101_101);

        CliResult r = await _home.RunAsync(["daemon", "upgrade"], new Dictionary<string, string> { ["TEND_DAEMON"] = broken });
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("--check exited 3: cannot find the runtime", r.Stderr);

        // Nothing changed: the same daemon (still up since before), the same process, its log read on.
        Assert.Equal(daemon, _home.DaemonPid);
        CliResult ping = await _home.OkAsync("ping", "--json");
        Assert.True(JsonDocument.Parse(ping.Stdout).RootElement.GetProperty("uptime_ms").GetInt64() > 500);
        var after = await _home.ListAsync();
        Assert.Equal(before[0].Pid, after[0].Pid);
        long ticks = Ticks(Path.Combine(_home.LogsDir, "worker-0.out.log")).Count;
        await Eventually.TrueAsync(() => Ticks(Path.Combine(_home.LogsDir, "worker-0.out.log")).Count > ticks + 10, "the log still read");
    }

    private string DaemonLogTail() =>
        string.Join("\n", File.ReadLines(Path.Combine(_home.Dir, "daemon.log")).TakeLast(40));

    [Fact]
    public async Task Sigkill_WithNothingHoldingTheDescriptors_RestartsTheApps_AndDescribeSaysWhy()
    {
        await _home.OkAsync("start", _home.WriteConfig($"""
            apps:
              worker:
                cmd: {TendHome.Child}
                args: [--tick, "5"]
            """));
        var before = await _home.WaitForAsync(l => l.Any(i => i.Status == "online"), "worker online");
        ProcFs.Kill(_home.DaemonPid!.Value, 9);
        var after = await _home.WaitForAsync(l => l.Any(i => i.Status == "online" && i.Pid != before[0].Pid), "worker started afresh");
        Assert.False(ProcFs.IsRunning(before[0].Pid!.Value));
        var worker = await _home.DescribeAsync("worker");
        Assert.Contains("started afresh: the previous daemon ended without handing its pipes over", worker.Instances[0].DaemonRestart);
    }
}
