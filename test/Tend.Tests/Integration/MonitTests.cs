using System.Diagnostics;
using Tend.Api;
using Tend.Tests.Support;

namespace Tend.Tests.Integration;

/// <summary>
/// `tend monit` end to end: the real CLI in a real terminal (a detached tmux session of a fixed
/// size), a real daemon and real apps. The screen is read with capture-pane and driven with
/// send-keys; what an action did is checked on the daemon's list as well as on screen.
/// </summary>
public sealed class MonitTests : IAsyncLifetime
{
    private const string Exited = "monit-exit=";
    private readonly TendHome _home = new();
    private Tmux? _tmux;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_tmux is not null) await _tmux.DisposeAsync();
        await _home.DisposeAsync();
    }

    private async Task<InstanceInfo> StartWebAsync()
    {
        string config = _home.WriteConfig($"""
            apps:
              web:
                cmd: {TendHome.Child}
                args: [--echo, hello from web, --sleep]
            """);
        await _home.OkAsync("start", config);
        return (await _home.WaitForAsync(l => l is [{ Status: "online", Pid: not null }], "web online")).Single();
    }

    /// <summary>monit in a width × height terminal; when it exits the pane prints its exit code and stays open.</summary>
    private async Task<Tmux> StartMonitAsync(int width = 160, int height = 45)
    {
        string command = $"'{TestPaths.Cli}' monit; echo {Exited}$?; exec cat";
        _tmux = await Tmux.StartAsync(command, new Dictionary<string, string> { ["TEND_HOME"] = _home.Dir }, width, height);
        return _tmux;
    }

    private int MonitPid() =>
        Assert.Single(_home.LiveProcesses(), p => ProcFs.CommandLine(p) is [_, "monit"]);

    private static bool RowShows(string screen, string name, params string[] cells) =>
        screen.Split('\n').Any(l => l.Contains(name, StringComparison.Ordinal) && cells.All(c => l.Contains(c, StringComparison.Ordinal)));

    private static int Count(string text, string what) =>
        text.Split(what).Length - 1;

    [Fact]
    public async Task Monit_RestartKey_RestartsTheApp_FollowsItsLog_AndQuitRestoresTheTerminal()
    {
        InstanceInfo web = await StartWebAsync();
        Tmux tmux = await StartMonitAsync();

        await tmux.WaitForScreenAsync(s => RowShows(s, "web#0", web.Pid!.Value.ToString(), "online") && s.Contains("hello from web"),
            "web's row and its log line");
        Assert.Equal("1", await tmux.DisplayAsync("#{alternate_on}"));
        // The dashboard is the one command that loads Spectre.Console.
        Assert.Contains(ProcFs.MappedFiles(MonitPid()), f => f.EndsWith("/Spectre.Console.dll", StringComparison.Ordinal));

        await tmux.SendKeysAsync("r");

        InstanceInfo restarted = (await _home.WaitForAsync(
            l => l is [{ Status: "online", Restarts: 1, Pid: int p }] && p != web.Pid, "web restarted by monit")).Single();
        string screen = await tmux.WaitForScreenAsync(
            s => RowShows(s, "web#0", restarted.Pid!.Value.ToString(), "online") && Count(s, "hello from web") == 2 && s.Contains("restarted web"),
            "the new pid, the new run's log line and the daemon's answer");
        Assert.DoesNotContain(web.Pid!.Value.ToString(), screen.Split('\n').Single(l => l.Contains("web#0", StringComparison.Ordinal) && l.Contains("online", StringComparison.Ordinal)));

        int monit = MonitPid();
        await tmux.SendKeysAsync("q");

        string after = await tmux.WaitForScreenAsync(s => s.Contains(Exited, StringComparison.Ordinal), "monit's exit");
        Assert.Contains(Exited + "0", after);
        Assert.DoesNotContain("instances", after); // back on the shell's screen, the dashboard gone with the alternate screen
        Assert.Equal("0", await tmux.DisplayAsync("#{alternate_on}"));
        Assert.Equal("1", await tmux.DisplayAsync("#{cursor_flag}"));
        await Eventually.TrueAsync(() => !ProcFs.IsRunning(monit), "the monit process gone");
    }

    [Fact]
    public async Task Monit_StopKeyResizeAndDaemonGone_ShowsEachAndKeepsRunning_CtrlCQuits()
    {
        InstanceInfo web = await StartWebAsync();
        Tmux tmux = await StartMonitAsync();
        await tmux.WaitForScreenAsync(s => RowShows(s, "web#0", "online"), "web's row");

        await tmux.SendKeysAsync("s");
        await _home.WaitForAsync(l => l is [{ Status: "stopped" }], "web stopped by monit");
        await tmux.WaitForScreenAsync(s => RowShows(s, "web#0", "stopped") && s.Contains("stopped web"), "web stopped");

        // Narrower and shorter: the frame is redrawn to the new size, borders and all.
        await tmux.ResizeAsync(90, 20);
        string small = await tmux.WaitForScreenAsync(
            s => s.Split('\n') is { Length: 20 } lines && lines[1].Length == 90 && lines[1].EndsWith('╮') && lines[^1].EndsWith("q quit"),
            "the 90x20 frame");
        Assert.All(small.Split('\n'), l => Assert.True(l.Length <= 90, $"wider than the terminal: {l}"));
        Assert.Contains("web#0", small);

        int monit = MonitPid();
        await _home.OkAsync("kill");
        await tmux.WaitForScreenAsync(s => s.Contains("daemon unreachable: no daemon running") && s.Contains("instances (last known)"),
            "the daemon's absence");
        Assert.True(ProcFs.IsRunning(monit), "monit ended when the daemon went away");

        await tmux.SendKeysAsync("C-c");
        string after = await tmux.WaitForScreenAsync(s => s.Contains(Exited, StringComparison.Ordinal), "monit's exit");
        Assert.Contains(Exited + "0", after);
        Assert.Equal("1", await tmux.DisplayAsync("#{cursor_flag}"));
        Assert.Null(_home.DaemonPid is int pid && ProcFs.IsRunning(pid) ? pid : null); // monit did not start it again
    }

    [Fact]
    public async Task Monit_StdoutNotATerminal_FailsWithExitTwo_AndStartsNoDaemon()
    {
        CliResult r = await _home.RunAsync("monit");

        Assert.Equal(2, r.ExitCode);
        Assert.Equal("", r.Stdout);
        Assert.StartsWith("error: tend monit needs a terminal, and stdout is not one", r.Stderr);
        Assert.Contains("tend list --json", r.Stderr);
        Assert.DoesNotContain("   at ", r.Stderr); // no stack trace
        Assert.Null(_home.DaemonPid);
        Assert.Empty(_home.LiveProcesses());
    }

    [Fact]
    public async Task OtherCommands_DoNotLoadSpectreConsole()
    {
        await StartWebAsync();
        // `tend logs` builds the whole command tree (MonitCommand included) and then stays running,
        // so its loaded assemblies can be read while it follows.
        var psi = new ProcessStartInfo(TestPaths.Cli, ["logs", "web"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.Environment["TEND_HOME"] = _home.Dir;
        using var logs = Process.Start(psi)!;
        try
        {
            string? first = await logs.StandardOutput.ReadLineAsync().WaitAsync(Eventually.DefaultTimeout);
            Assert.Contains("hello from web", first);

            HashSet<string> mapped = ProcFs.MappedFiles(logs.Id);
            Assert.Contains(mapped, f => f.EndsWith("/System.CommandLine.dll", StringComparison.Ordinal));
            Assert.DoesNotContain(mapped, f => f.Contains("Spectre", StringComparison.Ordinal));
        }
        finally
        {
            logs.Kill();
            await logs.WaitForExitAsync().WaitAsync(Eventually.DefaultTimeout);
        }
    }
}
