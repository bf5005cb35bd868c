using System.Diagnostics;
using System.Text.Json;
using Tend.Api;
using Tend.Isolation;
using Tend.Tests.Support;

namespace Tend.Tests.Integration;

/// <summary>
/// Isolation through the real daemon on real processes (docs/isolation.md): nothing an app starts
/// outlives it, whatever it does with sessions and forks; apps run as other users with their
/// groups, limits and capabilities; cgroup limits hold and an OOM kill is told apart from a crash.
/// Facts are read from /proc and the cgroup files, not from Tend.
/// </summary>
public sealed class IsolationTests : IAsyncLifetime
{
    private readonly TendHome _home = new();

    public Task InitializeAsync() => Task.CompletedTask;
    public async Task DisposeAsync() => await _home.DisposeAsync();

    private static readonly Dictionary<string, string> s_noCgroups = new() { ["TEND_CGROUP"] = "off" };

    /// <summary>A script that leaves a grandchild in a session of its own (setsid, its parent gone: a
    /// double fork), writes the grandchild's pid to $1, then runs as the app's main process (or,
    /// when $2 is given, exits with it once the test creates $1.go).</summary>
    private string EscapingApp(string pidFile, string name, string restart = "always", int? exitCode = null) => _home.WriteConfig($"""
        apps:
          {name}:
            cmd: /bin/sh
            args: [{_home.WriteConfig("""
                setsid sh -c 'sleep 600 & echo $! > "$1"' escapee "$1"
                if [ -n "$2" ]; then while [ ! -e "$1.go" ]; do sleep 0.05; done; exit "$2"; fi
                exec sleep 600
                """, "escape.sh")}, {pidFile}{(exitCode is int c ? $", \"{c}\"" : "")}]
            restart: {restart}
        """);

    private async Task<int> GrandchildAsync(string pidFile, int not = 0) => await Eventually.ReturnsAsync(
        () => File.Exists(pidFile) && int.TryParse(File.ReadAllText(pidFile).Trim(), out int p) ? p : 0,
        p => p > 0 && p != not && ProcFs.IsRunning(p), "the escaped grandchild's pid");

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Stop_AGrandchildThatSetsidAndDoubleForked_IsGoneWhenStopReturns(bool cgroups)
    {
        string pidFile = Path.Combine(_home.Dir, "escapee.pid");
        await _home.RunAsync(["start", EscapingApp(pidFile, "esc")], cgroups ? null : s_noCgroups);
        int grandchild = await GrandchildAsync(pidFile);
        Assert.NotEqual(ProcFs.ProcessGroup(grandchild), (await _home.ListAsync()).Single().Pid);

        await _home.OkAsync("stop", "esc");
        Assert.False(ProcFs.IsRunning(grandchild), $"the escaped grandchild {grandchild} survived tend stop (cgroups: {cgroups})");
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Crash_OfTheParent_TakesTheEscapedGrandchildWithIt(bool cgroups)
    {
        string pidFile = Path.Combine(_home.Dir, "escapee.pid");
        await _home.RunAsync(["start", EscapingApp(pidFile, "esc", restart: "never", exitCode: 3)], cgroups ? null : s_noCgroups);
        int grandchild = await GrandchildAsync(pidFile);
        File.WriteAllText(pidFile + ".go", "");

        await _home.WaitForAsync(l => l.Single() is { Status: "stopped", ExitCode: 3 }, "the parent exited with 3");
        Assert.False(ProcFs.IsRunning(grandchild), $"the escaped grandchild {grandchild} outlived its crashed parent (cgroups: {cgroups})");
    }

    [Fact]
    public async Task Restart_KillsTheOldRunsEscapee_BeforeTheNewRunStarts()
    {
        string pidFile = Path.Combine(_home.Dir, "escapee.pid");
        await _home.OkAsync("start", EscapingApp(pidFile, "esc"));
        int first = await GrandchildAsync(pidFile);

        await _home.OkAsync("restart", "esc");
        int second = await GrandchildAsync(pidFile, not: first);
        Assert.False(ProcFs.IsRunning(first), $"the first run's escapee {first} survived tend restart");
        Assert.True(ProcFs.IsRunning(second));
    }

    [Fact]
    public async Task Figures_ComeFromTheCgroup_SoAnEscapedProcessCounts()
    {
        // The main process sleeps; a grandchild in a session of its own holds 64 MiB and burns CPU.
        string config = _home.WriteConfig($$"""
            apps:
              busy:
                cmd: /bin/sh
                args: [-c, 'setsid {{TendHome.Child}} --alloc 64 --sleep & setsid sh -c "while :; do :; done" & exec sleep 600']
            """);
        await _home.OkAsync("start", config);
        var busy = await _home.WaitForAsync(l => l.Single().MemoryBytes > 64L << 20, "the escaped grandchild's memory counted for the instance");
        int main = busy.Single().Pid!.Value;
        Assert.True(ProcFs.ReadRssBytes(main) < 16L << 20, "the main process itself is small");
        await Eventually.TrueAsync(() => MetricsAsync().Result.Split('\n')
            .Any(l => l.StartsWith("tend_instance_cpu_seconds_total{app=\"busy\"") && double.Parse(l[(l.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture) > 0.5),
            "the escaped busy loop's CPU counted for the instance");
    }

    [Fact]
    public async Task DaemonKilled_TheNextDaemonKillsWhatItsAppsLeftInTheirCgroups()
    {
        string pidFile = Path.Combine(_home.Dir, "escapee.pid");
        await _home.OkAsync("start", EscapingApp(pidFile, "esc"));
        int grandchild = await GrandchildAsync(pidFile);
        int main = (await _home.ListAsync()).Single().Pid!.Value;

        // A power cut, as far as the daemon is concerned: it dies, its apps run on.
        ProcFs.Kill(_home.DaemonPid!.Value);
        await Eventually.TrueAsync(() => !ProcFs.IsRunning(_home.DaemonPid ?? 0), "the daemon gone");
        Assert.True(ProcFs.IsRunning(grandchild));

        // The next daemon stops the old run and kills what else it left, then starts the app afresh.
        int restarted = (await _home.WaitForAsync(l => l.Single().Pid is int p && p != main, "esc running again")).Single().Pid!.Value;
        Assert.False(ProcFs.IsRunning(main));
        Assert.False(ProcFs.IsRunning(grandchild), $"the escapee {grandchild} of the dead daemon's app survived the next daemon's start");
        Assert.True(ProcFs.IsRunning(restarted));
    }

    [Fact]
    public async Task AsNobody_WithGroupsLimitsNoNewPrivsAndACapability_ProcShowsExactlyThat()
    {
        UserAccount nobody = UserAccounts.FindUser("nobody")!;
        GroupAccount adm = UserAccounts.FindGroup("adm") ?? UserAccounts.FindGroup("4")!;
        string config = _home.WriteConfig("""
            apps:
              web:
                cmd: sleep
                args: ["600"]
                cwd: /tmp
                user: nobody
                supplementary_groups: [nogroup, adm]
                no_new_privs: true
                capabilities: [CAP_NET_BIND_SERVICE]
                umask: "027"
                limits: { nofile: "1000:2000", core: infinity, nproc: 4096 }
            """);
        await _home.OkAsync("start", config);
        int pid = (await _home.WaitForAsync(l => l.Single().Pid is not null, "web running")).Single().Pid!.Value;

        Dictionary<string, string> status = File.ReadAllLines($"/proc/{pid}/status")
            .Select(l => l.Split(':', 2)).ToDictionary(p => p[0], p => p[1].Trim());
        string u = nobody.Uid.ToString(), g = nobody.Gid.ToString();
        Assert.Equal($"{u}\t{u}\t{u}\t{u}", status["Uid"]);
        Assert.Equal($"{g}\t{g}\t{g}\t{g}", status["Gid"]);
        Assert.Equal(new[] { adm.Gid, UserAccounts.FindGroup("nogroup")!.Gid }.Order().Select(x => x.ToString()), status["Groups"].Split(' ', StringSplitOptions.RemoveEmptyEntries).Order());
        Assert.Equal("1", status["NoNewPrivs"]);
        Assert.Equal("0000000000000400", status["CapAmb"]); // CAP_NET_BIND_SERVICE is bit 10
        Assert.Equal("0000000000000400", status["CapEff"]);
        Assert.Equal("0000000000000400", status["CapBnd"]);
        Assert.Equal("0027", status["Umask"]);

        string limits = File.ReadAllText($"/proc/{pid}/limits");
        Assert.Matches(@"Max open files\s+1000\s+2000\s+files", limits);
        Assert.Matches(@"Max core file size\s+unlimited\s+unlimited", limits);
        Assert.Matches(@"Max processes\s+4096\s+4096", limits);

        string[] env = File.ReadAllText($"/proc/{pid}/environ").Split('\0');
        Assert.Contains($"HOME={nobody.Home}", env);
        Assert.Contains("USER=nobody", env);
        Assert.Contains("LOGNAME=nobody", env);

        CliResult describe = await _home.OkAsync("describe", "web");
        Assert.Contains($"nobody (uid {u})", describe.Stdout);
        Assert.Contains("CAP_NET_BIND_SERVICE", describe.Stdout);
    }

    [Fact]
    public async Task Cgroups_KeptAcrossRestarts_RemovedWithTheirInstances()
    {
        await _home.OkAsync("start", _home.WriteConfig("apps:\n  web:\n    run: sleep 600\n    instances: 2\n"));
        var listed = await _home.WaitForAsync(l => l.All(i => i.Pid is not null), "both running");
        string pattern = (await _home.DescribeAsync("web")).Isolation!.Cgroup!;
        string Leaf(int number) => pattern.Replace("{instance}", number.ToString()).Replace("{id}", listed.Single(i => i.Instance == number).Id.ToString());
        Assert.True(Directory.Exists(Leaf(0)) && Directory.Exists(Leaf(1)), pattern);
        Assert.Contains($"{listed[0].Pid}", File.ReadAllText(Path.Combine(Leaf(listed[0].Instance), "cgroup.procs")));

        await _home.OkAsync("restart", "web#0");
        await _home.WaitForAsync(l => l.Single(i => i.Instance == 0) is { Pid: int p } && p != listed.Single(i => i.Instance == 0).Pid, "web#0 restarted");
        Assert.True(Directory.Exists(Leaf(0)));

        await _home.OkAsync("scale", "web", "1");
        Assert.False(Directory.Exists(Leaf(1)), "the scaled-away instance's cgroup is left behind");
        await _home.OkAsync("delete", "web");
        Assert.False(Directory.Exists(Leaf(0)), "the deleted app's cgroup is left behind");
    }

    [Fact]
    public async Task ExecProbe_RunsAsTheAppsUser()
    {
        // Ready only if the check runs as nobody: a probe must not have more rights than its app.
        uint uid = UserAccounts.FindUser("nobody")!.Uid;
        string config = _home.WriteConfig($$"""
            apps:
              web:
                run: sleep 600
                cwd: /tmp
                user: nobody
                ready:
                  exec: [/bin/sh, -c, 'test "$(id -u)" = {{uid}}']
                  interval: 200ms
            """);
        await _home.OkAsync("start", config);
        await _home.WaitForAsync(l => l.Single().Ready, "ready by a check run as nobody");
    }

    [Fact]
    public async Task MemoryMax_AChildThatAllocatesPastIt_IsKilledRecordedAsOomAndRestarted()
    {
        // dash holds a command substitution's output in memory: 200 MB of it against a 50 MiB limit.
        string config = _home.WriteConfig("""
            apps:
              hog:
                run: sh -c 'sleep 0.3; x=$(head -c 200000000 /dev/zero | tr "\0" a); echo survived'
                resources: { memory_max: 50M }
                backoff: { initial: 200ms, max: 1s }
                min_uptime: 10ms
            """);
        await _home.OkAsync("start", config);
        await _home.WaitForAsync(l => l.Single().Restarts >= 1, "hog restarted after its first OOM kill");

        var app = await _home.DescribeAsync("hog");
        var exit = app.Instances.Single().RecentExits.First();
        Assert.Equal("SIGKILL", exit.ExitSignal);
        Assert.StartsWith("oom:", exit.Reason);
        Assert.DoesNotContain("survived", File.ReadAllText(Path.Combine(_home.LogsDir, "hog-0.out.log")));

        CliResult events = await _home.OkAsync("events", "--json", "--no-follow");
        Assert.Contains("\"type\":\"oom\"", events.Stdout);
        string metrics = await MetricsAsync();
        Assert.Matches(@"tend_instance_restarts_total\{app=""hog"",instance_number=""0"",reason=""oom""\} [1-9]", metrics);
    }

    [Fact]
    public async Task PidsMax_AForkBomb_IsContainedAndTheDaemonUnharmed()
    {
        string name = "bomb" + Guid.NewGuid().ToString("N")[..6];
        string config = _home.WriteConfig($$"""
            apps:
              {{name}}:
                cmd: /bin/bash
                args: [{{_home.WriteConfig("b() { while :; do (b) & sleep 0.02; done; }\nb &\nexec sleep 600\n", "bomb.sh")}}]
                resources: { pids_max: 20 }
              calm:
                cmd: sleep
                args: ["600"]
            """);
        await _home.OkAsync("start", config);
        // bash, not dash: dash exits on a failed fork, so its bomb hits the limit and dies out within a
        // second, often between two looks at /proc. bash retries a fork that fails with EAGAIN, so this
        // bomb stays pressed against pids_max for as long as it runs, as a real one would.
        await Eventually.TrueAsync(() => ProcFs.WithEnvironment("TEND_APP", name).Count >= 8, "the bomb under way", TimeSpan.FromSeconds(60));
        int most = 0;
        for (int i = 0; i < 40; i++)
        {
            most = Math.Max(most, ProcFs.WithEnvironment("TEND_APP", name).Count);
            await Task.Delay(50);
        }
        Assert.True(most <= 20, $"{most} processes of the bomb at once, above pids_max 20");

        // The daemon still answers and the other app runs on.
        var list = await _home.ListAsync();
        Assert.Equal("online", list.Single(i => i.Name == "calm").Status);

        await _home.OkAsync("stop", name);
        Assert.Empty(ProcFs.WithEnvironment("TEND_APP", name));
    }

    [Fact]
    public async Task Doctor_Json_OnThisMachine()
    {
        CliResult r = await _home.OkAsync("doctor", "--json");
        DoctorReport report = JsonSerializer.Deserialize(r.Stdout, TendJsonContext.Default.DoctorReport)!;
        Assert.True(report.Ok, r.Stdout);
        // This machine: root, a v2 tree with cgroup.kill, memory/pids/cpu as v1 hierarchies (the issue's hybrid layout).
        Assert.Contains(report.CgroupMode, new[] { "hybrid", "unified" });
        Assert.True(report.CgroupKill);
        Assert.Equal(["cpu", "memory", "pids"], report.CgroupControllers);
        Assert.StartsWith("/sys/fs/cgroup/", report.CgroupDirectory);
        Assert.True(Directory.Exists(report.CgroupDirectory));
        Assert.True(report.Subreaper);
        Assert.True(report.Pidfd);
        Assert.Equal(0u, report.DaemonUid);
        Assert.True(report.CanSwitchUsers);
        Assert.True(report.FdsNeeded >= 64 && report.FdsInUse > 0);
        Assert.NotNull(report.HealthUrl);
        Assert.False(report.TokenConfigured);
        Assert.Empty(report.Problems);
        Assert.Contains(report.Checks, c => c.Name == "cgroups" && c.Status == "ok");
    }

    [Fact]
    public async Task Doctor_WithoutCgroups_SaysSoAndRefusesResources()
    {
        CliResult r = await _home.RunAsync(["doctor", "--json"], s_noCgroups);
        DoctorReport report = JsonSerializer.Deserialize(r.Stdout, TendJsonContext.Default.DoctorReport)!;
        Assert.Equal("none", report.CgroupMode);
        Assert.Empty(report.CgroupControllers);
        Assert.True(report.Subreaper);
        Assert.Contains(report.Checks, c => c.Name == "cgroups" && c.Status == "warn" && c.Detail.Contains("TEND_CGROUP=off"));

        CliResult start = await _home.RunAsync("start", _home.WriteConfig("apps:\n  capped:\n    run: sleep 600\n    resources: { memory_max: 64M }\n"));
        Assert.Equal(2, start.ExitCode);
        Assert.Contains("tend.yaml:4:18: apps.capped.resources.memory_max: cannot be enforced: this daemon runs apps without cgroups", start.Stderr);
        Assert.Empty(await _home.ListAsync());
    }

    [Fact]
    public async Task UnprivilegedDaemon_FallsBackToTheSubreaper_KillsTheEscapee_AndRefusesUser()
    {
        // A home of nobody's own, and the CLI (so the daemon it starts) run as nobody.
        UserAccount nobody = UserAccounts.FindUser("nobody")!;
        string home = Directory.CreateTempSubdirectory("tend-nobody-").FullName;
        try
        {
            Chown(home, nobody);
            string pidFile = Path.Combine(home, "escapee.pid");
            string script = Path.Combine(home, "escape.sh");
            File.WriteAllText(script, "setsid sh -c 'sleep 600 & echo $! > \"$1\"' escapee \"$1\"\nexec sleep 600\n");
            string config = Path.Combine(home, "tend.yaml");
            File.WriteAllText(config, $"apps:\n  esc:\n    cmd: /bin/sh\n    args: [{script}, {pidFile}]\n");
            Chown(config, nobody);

            Assert.Equal(0, (await AsNobody(home, "start", config)).ExitCode);
            int grandchild = await Eventually.ReturnsAsync(
                () => File.Exists(pidFile) && int.TryParse(File.ReadAllText(pidFile).Trim(), out int p) ? p : 0, p => p > 0, "the escapee's pid");

            CliResult doctor = await AsNobody(home, "doctor", "--json");
            DoctorReport report = JsonSerializer.Deserialize(doctor.Stdout, TendJsonContext.Default.DoctorReport)!;
            Assert.Equal("none", report.CgroupMode);
            Assert.True(report.Subreaper);
            Assert.Equal(nobody.Uid, report.DaemonUid);
            Assert.False(report.CanSwitchUsers);

            CliResult stop = await AsNobody(home, "stop", "esc");
            Assert.Equal(0, stop.ExitCode);
            Assert.False(ProcFs.IsRunning(grandchild), $"the escapee {grandchild} survived tend stop under an unprivileged daemon");

            string asRoot = Path.Combine(home, "root.yaml");
            File.WriteAllText(asRoot, "apps:\n  priv:\n    run: sleep 600\n    cwd: /tmp\n    user: root\n");
            Chown(asRoot, nobody);
            CliResult refused = await AsNobody(home, "start", asRoot);
            Assert.NotEqual(0, refused.ExitCode);
            Assert.Contains($"root.yaml:5:11: apps.priv.user: only a daemon running as root can run an app as another user or group; this daemon runs as uid {nobody.Uid}", refused.Stderr);
        }
        finally
        {
            await AsNobody(home, "kill");
            foreach (int p in ProcFs.WithEnvironment("TEND_HOME", home)) ProcFs.Kill(p);
            Directory.Delete(home, recursive: true);
        }
    }

    private static async Task<CliResult> AsNobody(string home, params string[] args)
    {
        var psi = new ProcessStartInfo(HostSupport.FindTool("setpriv")!)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = home,
        };
        foreach (string a in new[] { "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--", TestPaths.Cli }.Concat(args)) psi.ArgumentList.Add(a);
        psi.Environment["TEND_HOME"] = home;
        psi.Environment["HOME"] = home;
        psi.Environment["NO_COLOR"] = "1";
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(90));
        return new CliResult(process.ExitCode, await stdout, await stderr);
    }

    private static void Chown(string path, UserAccount user)
    {
        using var chown = Process.Start("chown", [$"{user.Uid}:{user.Gid}", path])!;
        chown.WaitForExit();
        Assert.Equal(0, chown.ExitCode);
    }

    private async Task<string> MetricsAsync()
    {
        CliResult ping = await _home.OkAsync("ping", "--json");
        string url = JsonSerializer.Deserialize(ping.Stdout, TendJsonContext.Default.PingInfo)!.HealthUrl!;
        using var http = new HttpClient();
        return await http.GetStringAsync(url + "/metrics");
    }
}
