using System.Diagnostics;
using System.Text.Json;
using Tend.State;
using Tend.Tests.Support;

namespace Tend.Tests.Integration;

/// <summary>
/// Tend as a boot service (docs/startup.md): the unit `tend startup` writes passes systemd's own
/// checker, the daemon speaks Type=notify on a real NOTIFY_SOCKET, a power loss is survived, and an
/// empty list never replaces a saved one by accident.
/// </summary>
public sealed class StartupTests : IAsyncLifetime
{
    private readonly TendHome _home = new();

    public Task InitializeAsync() => Task.CompletedTask;
    public async Task DisposeAsync() => await _home.DisposeAsync();

    private static async Task<(int Code, string Stdout, string Stderr)> RunAsync(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        Task<string> stdout = p.StandardOutput.ReadToEndAsync(), stderr = p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        return (p.ExitCode, await stdout, await stderr);
    }

    [Fact]
    public async Task Startup_WritesAUnitThatSystemdAnalyzeVerifies_WithTheInterpretersPathAndAStopTimeoutOverTheKillTimeouts()
    {
        // An interpreter in a folder of its own, as nvm or a tarball install puts node: the unit's PATH must have it.
        string bin = Directory.CreateDirectory(Path.Combine(_home.Dir, "opt", "runtime", "bin")).FullName;
        string interpreter = Path.Combine(bin, "myrun");
        File.WriteAllText(interpreter, $"#!/bin/sh\nexec {TendHome.Child} \"$@\"\n");
        File.SetUnixFileMode(interpreter, (UnixFileMode)0b111_101_101);
        string config = _home.WriteConfig($$"""
            apps:
              web:
                run: myrun --sleep
                env: { PATH: "{{bin}}:/usr/bin:/bin" }
                kill_timeout: 70s
              worker:
                cmd: {{TendHome.Child}}
                args: [--sleep]
                instances: 2
                kill_timeout: 20s
            """);
        await _home.OkAsync("start", config);
        await _home.WaitForAsync(l => l.Count(i => i.Status == "online") == 3, "3 online");

        string units = Directory.CreateDirectory(Path.Combine(_home.Dir, "units")).FullName;
        CliResult dry = await _home.OkAsync("startup", "--unit-dir", units, "--dry-run");
        Assert.Empty(Directory.GetFiles(units));
        Assert.Contains("PATH: added " + bin + " (myrun, run by web)", dry.Stderr);

        CliResult wrote = await _home.OkAsync("startup", "--unit-dir", units);
        string unitPath = Assert.Single(Directory.GetFiles(units));
        Assert.Equal("tend-root.service", Path.GetFileName(unitPath));
        string unit = File.ReadAllText(unitPath);
        Assert.Equal(dry.Stdout, unit);
        Assert.Contains("wrote " + unitPath, wrote.Stdout);

        string[] lines = unit.Split('\n');
        Assert.Contains("Type=notify", lines);
        Assert.Contains("Delegate=yes", lines);
        Assert.Contains("KillMode=process", lines);
        Assert.Contains("FileDescriptorStoreMax=4096", lines);
        Assert.Contains("Environment=TEND_FDSTORE=1", lines);
        Assert.Contains("User=root", lines);
        Assert.Contains("Environment=HOME=/root", lines);
        Assert.Contains("Environment=TEND_HOME=" + _home.Dir, lines);
        Assert.Contains($"ExecStart={TestPaths.Cli} daemon run", lines);
        string path = lines.Single(l => l.StartsWith("Environment=PATH=", StringComparison.Ordinal))["Environment=PATH=".Length..];
        // Then web's interpreter, found on web's PATH, and worker's program, named by its absolute path.
        string childDir = Path.GetDirectoryName(TendHome.Child)!;
        Assert.Equal(["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin", bin, childDir], path.Split(':'));
        Assert.Contains($"PATH: added {childDir} (testchild, run by worker)", wrote.Stdout);
        // web 70 s + worker 20 s, each with 5 s for its group after SIGKILL, and 30 s of margin.
        Assert.Contains("TimeoutStopSec=130", lines);

        var verify = await RunAsync("systemd-analyze", "verify", unitPath);
        Assert.True(verify.Code == 0 && verify.Stderr.Length == 0, $"systemd-analyze verify {unitPath}: exit {verify.Code}\n{verify.Stderr}");

        CliResult removed = await _home.OkAsync("unstartup", "--unit-dir", units);
        Assert.Contains("removed " + unitPath, removed.Stdout);
        Assert.False(File.Exists(unitPath));
        CliResult again = await _home.RunAsync("unstartup", "--unit-dir", units);
        Assert.Equal(1, again.ExitCode);
    }

    [Fact]
    public async Task Startup_UserUnit_VerifiesAndSaysLingeringIsNeeded()
    {
        string units = Directory.CreateDirectory(Path.Combine(_home.Dir, "user-units")).FullName;
        CliResult wrote = await _home.OkAsync("startup", "--user-unit", "--unit-dir", units);
        string unitPath = Path.Combine(units, "tend.service");
        string unit = File.ReadAllText(unitPath);
        Assert.DoesNotContain("User=", unit);
        Assert.Contains("WantedBy=default.target", unit);
        Assert.Contains("loginctl enable-linger root", wrote.Stdout);
        var verify = await RunAsync("systemd-analyze", "verify", unitPath);
        Assert.True(verify.Code == 0 && verify.Stderr.Length == 0, $"systemd-analyze verify {unitPath}: exit {verify.Code}\n{verify.Stderr}");
    }

    [Fact]
    public async Task Startup_BinaryInAVersionedFolderOrTmp_IsRefusedWithTheReason_AndNothingIsWritten()
    {
        string units = Directory.CreateDirectory(Path.Combine(_home.Dir, "units")).FullName;
        string versioned = Directory.CreateDirectory(Path.Combine(_home.Dir, "sdk", "10.0.100")).FullName;
        File.Copy(TestPaths.Cli, Path.Combine(versioned, "tend"));

        CliResult r = await _home.RunAsync("startup", "--unit-dir", units, "--binary", Path.Combine(versioned, "tend"));
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("versioned folder (10.0.100)", r.Stderr);

        CliResult store = await _home.RunAsync("startup", "--unit-dir", units, "--binary", "/root/.dotnet/tools/.store/tend/1.0.0/tend");
        Assert.Equal(2, store.ExitCode);
        Assert.Contains(".NET tool store", store.Stderr);

        CliResult user = await _home.RunAsync("startup", "--unit-dir", units, "--user", "no-such-user-here");
        Assert.Equal(2, user.ExitCode);
        Assert.Contains("no user \"no-such-user-here\"", user.Stderr);
        Assert.Empty(Directory.GetFiles(units));
    }

    [Fact]
    public async Task Daemon_UnderAServiceManager_SendsReadyAfterRestoring_WatchdogPings_AndStopping()
    {
        await _home.OkAsync("start", _home.WriteConfig($"""
            apps:
              web:
                cmd: {TendHome.Child}
                args: [--sleep]
            """));
        await _home.WaitForAsync(l => l.Any(i => i.Status == "online"), "web online");
        await _home.OkAsync("kill");

        using var manager = new ServiceManagerStub(_home.Dir);
        var env = new Dictionary<string, string> { ["NOTIFY_SOCKET"] = manager.Path, ["WATCHDOG_USEC"] = "400000" };
        // The daemon as the unit's ExecStart runs it, under the "service manager": it restores web.
        using var daemon = await _home.RunDaemonAsync(env);
        var messages = await manager.WaitForAsync("READY=1");
        string ready = messages.First(m => m.Split('\n').Contains("READY=1"));
        Assert.Contains("STATUS=1 apps, 1/1 instances online", ready);
        Assert.Contains($"MAINPID={_home.DaemonPid}", ready);

        // WATCHDOG_USEC=0.4 s: a ping every 0.2 s while the engine answers.
        await Eventually.TrueAsync(() => manager.Messages.Count(m => m.StartsWith("WATCHDOG=1", StringComparison.Ordinal)) >= 3, "three watchdog pings");

        await _home.OkAsync("kill");
        await manager.WaitForAsync("STOPPING=1");
        await daemon.WaitForExitAsync();
        Assert.DoesNotContain(manager.Messages.SkipWhile(m => !m.StartsWith("STOPPING=1", StringComparison.Ordinal)).Skip(1), m => m.StartsWith("WATCHDOG=1", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AutoStartedDaemon_IgnoresTheCallersNotifySocket()
    {
        // A `tend start` run from a shell inside some Type=notify unit: that unit's socket is not the daemon's to report to.
        using var manager = new ServiceManagerStub(_home.Dir);
        CliResult r = await _home.RunAsync(["start", "--name", "s", TendHome.Child, "--", "--sleep"],
            new Dictionary<string, string> { ["NOTIFY_SOCKET"] = manager.Path, ["WATCHDOG_USEC"] = "200000" });
        Assert.True(r.ExitCode == 0, r.ToString());
        await _home.WaitForAsync(l => l.Any(i => i.Status == "online"), "s online");
        await Task.Delay(500);
        Assert.Empty(manager.Messages);
    }

    [Fact]
    public async Task PowerLoss_DaemonAndEveryAppSigkilled_AFreshStartRestoresTheSameApps()
    {
        await _home.OkAsync("start", _home.WriteConfig($"""
            apps:
              web:
                cmd: {TendHome.Child}
                args: [--sleep]
                instances: 2
              worker:
                cmd: {TendHome.Child}
                args: [--sleep]
              paused:
                cmd: {TendHome.Child}
                args: [--sleep]
            """));
        await _home.OkAsync("stop", "paused");
        var before = await _home.WaitForAsync(l => l.Count(i => i.Status == "online") == 3, "3 online");

        // The power goes: everything dies at once, nobody writes anything.
        foreach (int pid in _home.LiveProcesses()) ProcFs.Kill(pid, 9);
        await Eventually.TrueAsync(() => _home.LiveProcesses().Count == 0, "everything gone");

        var after = await _home.WaitForAsync(l => l.Count(i => i.Status == "online") == 3, "the same 3 online again");
        Assert.Equal(before.Select(i => (i.Id, i.Name, i.Instance, i.Status)), after.Select(i => (i.Id, i.Name, i.Instance, i.Status)));
        Assert.All(after.Where(i => i.Pid is not null), i => Assert.DoesNotContain(before, b => b.Pid == i.Pid));
    }

    /// <summary>`tend kill`, then until the daemon process is gone: it writes its state one last time after answering.</summary>
    private async Task KillAndWaitAsync()
    {
        int pid = _home.DaemonPid!.Value;
        await _home.OkAsync("kill");
        await Eventually.TrueAsync(() => !ProcFs.IsRunning(pid), "the daemon gone");
    }

    [Fact]
    public async Task EmptyList_NeverReplacesASavedOne_WithoutDeleteOrSaveForce()
    {
        string config = _home.WriteConfig($"""
            apps:
              web:
                cmd: {TendHome.Child}
                args: [--sleep]
            """);
        await _home.OkAsync("start", config);
        await _home.WaitForAsync(l => l.Any(i => i.Status == "online"), "web online");
        await _home.OkAsync("save");
        await KillAndWaitAsync();
        string state = Path.Combine(_home.Dir, "state.json");
        byte[] saved = File.ReadAllBytes(state);

        // A daemon that cannot read its state (here: a newer format) starts empty, as at a boot with the
        // wrong home. Going down again must not write that emptiness over the list.
        var doc = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(saved)!;
        doc["version"] = JsonSerializer.SerializeToElement(99);
        byte[] unreadable = JsonSerializer.SerializeToUtf8Bytes(doc);
        File.WriteAllBytes(state, unreadable);
        File.Delete(state + ".bak");
        Assert.Empty(await _home.ListAsync());
        await KillAndWaitAsync();
        Assert.Equal(unreadable, File.ReadAllBytes(state));
        Assert.Contains("not writing an empty list", File.ReadAllText(Path.Combine(_home.Dir, "daemon.log")));

        // tend save with nothing declared keeps the dump that lists web, unless forced.
        CliResult refused = await _home.RunAsync("save");
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("not replacing it with an empty list", refused.Stderr);
        Assert.Single(StateFile.Read(Path.Combine(_home.Dir, "dump.json"), [])!.Apps);

        // The explicit way back: resurrect, then delete everything: now the empty list is what was asked for.
        File.WriteAllBytes(state, saved);
        await _home.OkAsync("resurrect");
        await _home.OkAsync("delete", "all");
        await KillAndWaitAsync();
        Assert.Empty(StateFile.Read(state, [])!.Apps);
        Assert.NotEmpty(StateFile.Read(state + ".bak", [])!.Apps);
        await _home.OkAsync("save", "--force");
        Assert.Empty(StateFile.Read(Path.Combine(_home.Dir, "dump.json"), [])!.Apps);
    }
}
