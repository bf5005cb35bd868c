using System.Diagnostics;
using System.Text.Json;
using Tend.Api;
using Tend.Tests.Support;

namespace Tend.Tests.Integration;

/// <summary>The daemon itself: one per home, a private socket, clean children, config errors that disturb nothing.</summary>
public sealed class DaemonTests : IAsyncLifetime
{
    private readonly TendHome _home = new();

    public Task InitializeAsync() => Task.CompletedTask;
    public async Task DisposeAsync() => await _home.DisposeAsync();

    [Fact]
    public async Task BusyDaemon_NeverLoadsOpenSsl()
    {
        // A start hashes the home (cgroup names), the notify directory and an audit record; the
        // dashboard's files are hashed for their ETags. OpenSSL loaded for those would cost every
        // daemon about 4 MB (Hashing/Sha256.cs).
        string config = _home.WriteConfig("apps:\n  web:\n    run: sleep 600\n    ready: { notify: true, ready_timeout: 1m }\n");
        await _home.OkAsync("start", config);
        PingInfo ping = JsonSerializer.Deserialize((await _home.OkAsync("ping", "--json")).Stdout, TendJsonContext.Default.PingInfo)!;
        using var http = new HttpClient();
        Assert.Contains("<html", await http.GetStringAsync(ping.HealthUrl!.TrimEnd('/') + "/"), StringComparison.OrdinalIgnoreCase);
        await _home.OkAsync("stop", "web");
        Assert.Contains("\"hash\"", File.ReadAllText(Path.Combine(_home.Dir, "audit.log")));

        string maps = File.ReadAllText($"/proc/{_home.DaemonPid!.Value}/maps");
        Assert.DoesNotContain("libcrypto", maps);
        Assert.DoesNotContain("libssl", maps);
    }

    /// <summary>RssFile of a process: its resident pages that are pages of files (code, mapped assemblies).</summary>
    private static long ResidentFileKiB(int pid) =>
        File.ReadLines($"/proc/{pid}/status").Where(l => l.StartsWith("RssFile:", StringComparison.Ordinal))
            .Select(l => long.Parse(l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1])).Single();

    [Fact]
    public async Task AQuietDaemon_GivesBackThePagesItsWorkTouched_AndStillAnswers()
    {
        // Two daemons doing the same work side by side: one trims after a second of quiet, the other
        // never (TEND_TRIM_AFTER_S=0). Without a trim the pages a daemon touched stay mapped, so the
        // trimming one can only fall well below the other if the trim ran (QuietTrim, WorkingSet).
        await using var control = new TendHome();
        string yaml = "apps:\n  a:\n    run: sleep 600\n  b:\n    run: sleep 600\n";
        CliResult started = await _home.RunAsync(["start", _home.WriteConfig(yaml)], new Dictionary<string, string> { ["TEND_TRIM_AFTER_S"] = "1" });
        Assert.True(started.ExitCode == 0, started.ToString());
        started = await control.RunAsync(["start", control.WriteConfig(yaml)], new Dictionary<string, string> { ["TEND_TRIM_AFTER_S"] = "0" });
        Assert.True(started.ExitCode == 0, started.ToString());
        foreach (TendHome home in new[] { _home, control })
        {
            await home.WaitForAsync(rows => rows.Length == 2 && rows.All(r => r.Status == "online"), "both apps online");
            await home.OkAsync("describe", "a");
        }
        int trimmed = _home.DaemonPid!.Value, kept = control.DaemonPid!.Value;

        await Eventually.TrueAsync(() => ResidentFileKiB(trimmed) * 2 < ResidentFileKiB(kept),
            $"the quiet daemon's file pages below half the other's (RssFile {ResidentFileKiB(trimmed)} KiB against {ResidentFileKiB(kept)} KiB)");

        // What was let go comes back as it is used: the daemon works as before.
        InstanceInfo[] rows = await _home.ListAsync();
        Assert.Equal(["a", "b"], rows.Select(r => r.Name).Order());
        int? before = rows.Single(r => r.Name == "a").Pid;
        await _home.OkAsync("restart", "a");
        await _home.WaitForAsync(r => r.Single(x => x.Name == "a") is { Status: "online", Pid: int pid } && pid != before, "a restarted");
    }

    [Fact]
    public async Task ABadTrimSetting_IsNamedInTheDaemonLog_AndTheDaemonServes()
    {
        CliResult ping = await _home.RunAsync(["ping"], new Dictionary<string, string> { ["TEND_TRIM_AFTER_S"] = "soon" });
        Assert.True(ping.ExitCode == 0, ping.ToString());
        string log = await File.ReadAllTextAsync(Path.Combine(_home.Dir, "daemon.log"));
        string line = log.Split('\n').Single(l => l.Contains("TEND_TRIM_AFTER_S", StringComparison.Ordinal));
        Assert.Contains("soon", line);
        Assert.Contains("is not a number of seconds", line);
        Assert.Contains("\"level\":\"warn\"", line);
    }

    [Fact]
    public async Task Ping_StartsDaemon_WithPrivateSocket_AndSecondDaemonRefuses()
    {
        CliResult ping = await _home.OkAsync("ping");
        int pid = _home.DaemonPid!.Value;
        Assert.Contains($"pid {pid}", ping.Stdout);

        var mode = File.GetUnixFileMode(Path.Combine(_home.Dir, "tend.sock"));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, mode & (UnixFileMode)0x1FF & ~UnixFileMode.UserExecute);
        Assert.Equal(UnixFileMode.None, mode & (UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.OtherRead | UnixFileMode.OtherWrite));

        // Detached: its own session, not the CLI's.
        string stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        Assert.Equal(pid.ToString(), fields[3]); // session id == pid: a session leader

        string daemonExe = Path.Combine(Path.GetDirectoryName(TestPaths.Cli)!, "daemon", "tend-daemon");
        var psi = new ProcessStartInfo(daemonExe) { RedirectStandardError = true, RedirectStandardOutput = true };
        psi.Environment["TEND_HOME"] = _home.Dir;
        using var second = Process.Start(psi)!;
        string err = await second.StandardError.ReadToEndAsync();
        await second.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(1, second.ExitCode);
        Assert.Contains($"a daemon is already running for {_home.Dir} (pid {pid})", err);
        Assert.True(ProcFs.IsRunning(pid));
    }

    [Fact]
    public async Task Start_WaitsForTheLockOfADaemonOnItsWayOut()
    {
        // What an exiting daemon looks like: daemon.pid already deleted, the lock not yet let go
        // (it goes with the process). .NET's FileShare.None is an exclusive flock, as the daemon's is.
        var held = new FileStream(Path.Combine(_home.Dir, "daemon.lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        string daemonExe = Path.Combine(Path.GetDirectoryName(TestPaths.Cli)!, "daemon", "tend-daemon");
        var psi = new ProcessStartInfo(daemonExe) { RedirectStandardError = true, RedirectStandardOutput = true };
        psi.Environment["TEND_HOME"] = _home.Dir;
        using var daemon = Process.Start(psi)!;
        try
        {
            await Task.Delay(500);
            Assert.False(daemon.HasExited, "the new daemon gave up while the old one was exiting: " + (daemon.HasExited ? await daemon.StandardError.ReadToEndAsync() : ""));
        }
        finally
        {
            held.Dispose();
        }
        await Eventually.TrueAsync(() => _home.DaemonPid == daemon.Id && File.Exists(Path.Combine(_home.Dir, "tend.sock")), "the new daemon answering");
        CliResult ping = await _home.OkAsync("ping");
        Assert.Contains($"pid {daemon.Id}", ping.Stdout);
    }

    [Fact]
    public async Task Kill_ReturnsOnceTheDaemonProcessIsGone()
    {
        await _home.OkAsync("ping");
        int pid = _home.DaemonPid!.Value;

        await _home.OkAsync("kill");

        Assert.False(ProcFs.IsRunning(pid), $"daemon {pid} still running after `tend kill` returned");
        // And so a start right after finds no lock held: a new daemon, not an error.
        await _home.OkAsync("ping");
        Assert.NotEqual(pid, _home.DaemonPid);
    }

    [Fact]
    public async Task Children_GetOnlyStdio_InTheirOwnSession()
    {
        string config = _home.WriteConfig("""
            apps:
              sleeper:
                cmd: sleep
                args: ["1000"]
            """);
        await _home.OkAsync("start", config);
        int pid = (await _home.WaitForAsync(l => l.Single().Status == "online", "sleeper online")).Single().Pid!.Value;

        var fds = Directory.GetFileSystemEntries($"/proc/{pid}/fd").Select(f => int.Parse(Path.GetFileName(f))).Order();
        Assert.Equal([0, 1, 2], fds);
        string stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        Assert.Equal(pid.ToString(), fields[2]); // process group
        Assert.Equal(pid.ToString(), fields[3]); // session
        string status = File.ReadAllText($"/proc/{pid}/status");
        Assert.Contains("SigBlk:\t0000000000000000", status);
        Assert.Contains("SigIgn:\t0000000000000000", status);
    }

    [Fact]
    public async Task BadConfig_ExitsTwoWithLocatedErrors_AndDisturbsNothing()
    {
        string good = _home.WriteConfig($"""
            apps:
              keep:
                cmd: {TendHome.Child}
                args: [--sleep]
            """);
        await _home.OkAsync("start", good);
        var before = await _home.WaitForAsync(l => l.Single().Status == "online", "keep online");

        string bad = _home.WriteConfig("""
            apps:
              keep:
                run: sleep 100
                instnaces: 2
              broken:
                run: ""
                stop_signal: SIGFOO
            """, "bad.yaml");
        CliResult r = await _home.RunAsync("start", bad);

        Assert.Equal(2, r.ExitCode);
        Assert.Contains("bad.yaml:4:5: apps.keep.instnaces: unknown key \"instnaces\"; did you mean \"instances\"?", r.Stderr);
        Assert.Contains("bad.yaml:6:10: apps.broken.run:", r.Stderr);
        Assert.Contains("bad.yaml:7:18: apps.broken.stop_signal:", r.Stderr);
        var after = await _home.ListAsync();
        Assert.Equal(before.Single().Pid, after.Single().Pid);
        Assert.Equal("online", after.Single().Status);
    }
}
