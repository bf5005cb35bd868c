using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Tend.Api;
using Tend.Tests.Support;

namespace Tend.Tests.Integration;

/// <summary>
/// The rest of the command tree through the real binary and a real daemon: list, describe, reset,
/// logs (past and followed), stop/delete output, ping, version and kill with and without a daemon,
/// and the exit codes: 2 for bad usage, 1 for a target that names nothing.
/// </summary>
public sealed partial class CliTests : IAsyncLifetime
{
    private readonly TendHome _home = new();

    public Task InitializeAsync() => Task.CompletedTask;
    public async Task DisposeAsync() => await _home.DisposeAsync();

    private async Task<InstanceInfo[]> StartTwoAppsAsync()
    {
        string config = _home.WriteConfig($"""
            apps:
              web:
                cmd: {TendHome.Child}
                args: [--echo, from web, --sleep]
                instances: 2
              worker:
                cmd: {TendHome.Child}
                args: [--echo, from worker, --echo-err, worker complains, --sleep]
            """);
        await _home.OkAsync("start", config);
        return await _home.WaitForAsync(l => l.Length == 3 && l.All(i => i.Status == "online"), "web#0, web#1, worker#0 online");
    }

    private Task WaitForLogAsync(string app, int instance, string stream, string text) =>
        Eventually.TrueAsync(() =>
        {
            string path = Path.Combine(_home.LogsDir, $"{app}-{instance}.{stream}.log");
            return File.Exists(path) && File.ReadAllText(path).Contains(text, StringComparison.Ordinal);
        }, $"\"{text}\" in {app}#{instance} {stream} log");

    private void AssertNoDaemonStarted()
    {
        Assert.Null(_home.DaemonPid);
        Assert.False(File.Exists(Path.Combine(_home.Dir, ApiRoutes.SocketFileName)), "a daemon socket appeared");
        Assert.Empty(_home.LiveProcesses());
    }

    [Fact]
    public async Task List_Table_HasThePm2ColumnsAndEveryInstance()
    {
        InstanceInfo[] rows = await StartTwoAppsAsync();

        CliResult table = await _home.OkAsync("list");

        string[] lines = table.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("┌", lines[0]);
        Assert.StartsWith("└", lines[^1]);
        Assert.Equal(["id", "name", "inst", "pid", "status", "ready", "↺", "uptime", "cpu", "mem"], Cells(lines[1]));
        string[][] body = lines.Where(l => l.StartsWith('│')).Skip(1).Select(Cells).ToArray();
        Assert.Equal(3, body.Length);
        for (int r = 0; r < 3; r++)
        {
            Assert.Equal(rows[r].Id.ToString(), body[r][0]);
            Assert.Equal(rows[r].Name, body[r][1]);
            Assert.Equal(rows[r].Instance.ToString(), body[r][2]);
            Assert.Equal(rows[r].Pid.ToString(), body[r][3]);
            Assert.Equal("online", body[r][4]);
        }

        // `ls` and `status` are the same command.
        Assert.Equal(Cells(lines[1]), Cells((await _home.OkAsync("ls")).Stdout.Split('\n')[1]));
        Assert.Contains("│ web ", (await _home.OkAsync("status")).Stdout);
    }

    [Fact]
    public async Task List_NoApps_ShowsTheHint()
    {
        CliResult table = await _home.OkAsync("list");

        Assert.Contains("No apps yet. Start one with `tend start <command>` or `tend start tend.yaml`.", table.Stdout);
        Assert.Equal("[]\n", (await _home.OkAsync("list", "--json")).Stdout);
    }

    [Fact]
    public async Task Describe_Json_AppAndOneInstance()
    {
        InstanceInfo[] rows = await StartTwoAppsAsync();

        AppInfo web = await _home.DescribeAsync("web");
        Assert.Equal("web", web.Name);
        Assert.Equal(TendHome.Child, web.Command);
        Assert.Equal(["--echo", "from web", "--sleep"], web.Args);
        Assert.Equal(_home.Dir, web.Cwd);
        Assert.Equal(2, web.InstancesWanted);
        Assert.Equal(Path.Combine(_home.Dir, "tend.yaml"), web.ConfigPath);
        Assert.Equal(_home.Dir, web.Env["TEND_HOME"]); // inherited from the CLI's environment
        Assert.Equal([0, 1], web.Instances.Select(i => i.Instance));
        Assert.All(web.Instances, i =>
        {
            Assert.Equal(rows.Single(r => r.Name == "web" && r.Instance == i.Instance).Pid, i.Pid);
            Assert.Equal("online", i.Status);
            Assert.NotNull(i.StartedAt);
            Assert.Equal(Path.Combine(_home.LogsDir, $"web-{i.Instance}.out.log"), i.OutLog);
            Assert.Equal(Path.Combine(_home.LogsDir, $"web-{i.Instance}.err.log"), i.ErrLog);
        });

        CliResult json = await _home.OkAsync("describe", "web#1", "--json");
        Assert.Contains("\"instances_wanted\":2", json.Stdout);
        AppInfo one = JsonSerializer.Deserialize(json.Stdout, TendJsonContext.Default.AppInfo)!;
        InstanceDetail only = Assert.Single(one.Instances);
        Assert.Equal(1, only.Instance);
        Assert.Equal(rows.Single(r => r.Name == "web" && r.Instance == 1).Pid, only.Pid);
    }

    [Fact]
    public async Task Describe_Text_ByIdShowsThatInstanceOnly_AndMissingInstanceExitsOne()
    {
        InstanceInfo[] rows = await StartTwoAppsAsync();
        InstanceInfo web1 = rows.Single(r => r.Name == "web" && r.Instance == 1);

        CliResult text = await _home.OkAsync("show", web1.Id.ToString());

        Assert.StartsWith("web\n", text.Stdout);
        Assert.Contains($"web#1 (id {web1.Id})", text.Stdout);
        Assert.Contains($"{web1.Pid}", text.Stdout);
        Assert.DoesNotContain("web#0", text.Stdout);
        foreach (string pm2Name in new[] { "info", "desc" })
        {
            CliResult info = await _home.OkAsync(pm2Name, web1.Id.ToString()); // PM2's names for it
            Assert.StartsWith("web\n", info.Stdout);
            Assert.Contains($"web#1 (id {web1.Id})", info.Stdout);
        }
        Assert.Contains("│ web ", (await _home.OkAsync("ps")).Stdout);

        // PM2's jlist: the same rows as list --json.
        InstanceInfo[] jlist = JsonSerializer.Deserialize((await _home.OkAsync("jlist")).Stdout, TendJsonContext.Default.InstanceInfoArray)!;
        Assert.Equal(rows.Select(r => (r.Id, r.Pid)), jlist.Select(r => (r.Id, r.Pid)));

        CliResult missing = await _home.RunAsync("describe", "web#9");
        Assert.Equal(1, missing.ExitCode);
        Assert.Equal("error: web has no instance #9\n", missing.Stderr);
    }

    [Fact]
    public async Task Reset_ZeroesTheRestartCounters()
    {
        await StartTwoAppsAsync();
        await _home.OkAsync("restart", "web");
        await _home.WaitForAsync(l => l.Where(i => i.Name == "web").All(i => i is { Restarts: 1, Status: "online" }), "web restarted once");

        CliResult reset = await _home.OkAsync("reset", "web");

        Assert.Contains("reset", reset.Stdout);
        InstanceInfo[] after = await _home.ListAsync();
        Assert.All(after, i => Assert.Equal(0, i.Restarts));
        Assert.Equal(0, (await _home.DescribeAsync("web")).Instances.Sum(i => i.Restarts));
    }

    [Fact]
    public async Task Stop_PrintsMessageThenTable_DeletePrintsOnlyItsMessage()
    {
        await StartTwoAppsAsync();

        CliResult stop = await _home.OkAsync("stop", "web#0");
        Assert.StartsWith("stopped web#0\n┌", stop.Stdout);
        string[] web0 = stop.Stdout.Split('\n').Select(Cells).Single(c => c.Length > 4 && c[1] == "web" && c[2] == "0");
        Assert.Equal(["-", "stopped"], web0[3..5]);

        CliResult delete = await _home.OkAsync("del", "worker");
        Assert.Equal("deleted worker\n", delete.Stdout);
        Assert.DoesNotContain(await _home.ListAsync(), i => i.Name == "worker");
    }

    [Fact]
    public async Task Stop_UnknownTarget_ExitsOne()
    {
        await StartTwoAppsAsync();

        CliResult stop = await _home.RunAsync("stop", "nope");

        Assert.Equal(1, stop.ExitCode);
        Assert.StartsWith("error: unknown target \"nope\"", stop.Stderr);
        Assert.Equal("", stop.Stdout);
        Assert.All(await _home.ListAsync(), i => Assert.Equal("online", i.Status));
    }

    [Fact]
    public async Task Logs_NoFollow_All_PrefixesEveryLineWithItsInstanceAndStream()
    {
        await StartTwoAppsAsync();
        await WaitForLogAsync("web", 0, "out", "from web");
        await WaitForLogAsync("web", 1, "out", "from web");
        await WaitForLogAsync("worker", 0, "out", "from worker");
        await WaitForLogAsync("worker", 0, "err", "worker complains");

        CliResult logs = await _home.OkAsync("logs", "--no-follow");

        string[] lines = logs.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains("web#0 out | from web", lines);
        Assert.Contains("web#1 out | from web", lines);
        Assert.Contains("worker#0 out | from worker", lines);
        Assert.Contains("worker#0 err | worker complains", lines);
        Assert.Equal(4, lines.Length);

        CliResult onlyErr = await _home.OkAsync("logs", "all", "--err", "--no-follow");
        Assert.Equal("worker#0 err | worker complains\n", onlyErr.Stdout);
    }

    [Fact]
    public async Task Logs_UnknownTarget_ExitsOne()
    {
        await StartTwoAppsAsync();

        CliResult logs = await _home.RunAsync("logs", "nope", "--no-follow");

        Assert.Equal(1, logs.ExitCode);
        Assert.Contains("unknown", logs.Stderr);
    }

    [Fact]
    public async Task Logs_Follow_PrintsLinesAsTheyHappen_AndCtrlCExitsZero()
    {
        await StartTwoAppsAsync();
        await WaitForLogAsync("worker", 0, "out", "from worker");

        using Process follower = _home.StartCli("logs", "worker", "--out");
        try
        {
            follower.StandardInput.Close();
            var lines = new List<string>();
            Task<string> stderr = follower.StandardError.ReadToEndAsync();
            using var deadline = new CancellationTokenSource(Eventually.DefaultTimeout);

            async Task WaitForLinesAsync(int count)
            {
                while (lines.Count(l => l == "worker#0 out | from worker") < count)
                {
                    string? line = await follower.StandardOutput.ReadLineAsync(deadline.Token);
                    if (line is null) Assert.Fail($"tend logs ended early: {string.Join("\n", lines)}\n{await stderr}");
                    lines.Add(line);
                }
            }

            // The past line first: once it is printed, the follower is connected.
            await WaitForLinesAsync(1);

            // A restart makes the child print again; the follower shows it without being asked.
            int before = (await _home.ListAsync()).Single(i => i.Name == "worker").Pid!.Value;
            await _home.OkAsync("restart", "worker");
            await WaitForLinesAsync(2);
            Assert.NotEqual(before, (await _home.ListAsync()).Single(i => i.Name == "worker").Pid);

            // A reload replaces the instance with a new one of the same number: still followed.
            await _home.OkAsync("reload", "worker");
            await WaitForLinesAsync(3);

            ProcFs.Kill(follower.Id, 2); // Ctrl-C
            await follower.WaitForExitAsync(deadline.Token);
            Assert.Equal(0, follower.ExitCode);
            Assert.All(lines, l => Assert.StartsWith("worker#0 out | ", l));
        }
        finally
        {
            if (!follower.HasExited) follower.Kill();
        }
    }

    [Fact]
    public async Task Ping_And_Daemon_NameTheRunningDaemon()
    {
        CliResult ping = await _home.OkAsync("ping");
        int pid = _home.DaemonPid!.Value;

        Assert.StartsWith($"pong (daemon pid {pid}, home {_home.Dir}, up ", ping.Stdout);
        Assert.Equal($"{pid}\n", (await _home.OkAsync("daemon")).Stdout);
    }

    [Fact]
    public async Task Version_WithoutDaemon_DoesNotStartOne_WithDaemon_NamesIt()
    {
        CliResult alone = await _home.OkAsync("version");

        Assert.Matches(VersionLine(), alone.Stdout);
        Assert.EndsWith("\ndaemon not running\n", alone.Stdout);
        AssertNoDaemonStarted();

        await _home.OkAsync("ping");
        CliResult both = await _home.OkAsync("version");
        Assert.Contains($"\ndaemon ", both.Stdout);
        Assert.Contains($"(pid {_home.DaemonPid})\n", both.Stdout);
        Assert.DoesNotContain("warning", both.Stdout);

        using var json = System.Text.Json.JsonDocument.Parse((await _home.OkAsync("version", "--json")).Stdout);
        Assert.Equal("running", json.RootElement.GetProperty("daemon").GetString());
        Assert.Equal(_home.DaemonPid, json.RootElement.GetProperty("daemon_pid").GetInt32());
        Assert.True(json.RootElement.GetProperty("same").GetBoolean());
        Assert.Equal(json.RootElement.GetProperty("cli").GetString(), json.RootElement.GetProperty("daemon_version").GetString()!.Split('+')[0]);
    }

    [Fact]
    public async Task Kill_WithoutDaemon_SaysSoAndDoesNotStartOne()
    {
        CliResult kill = await _home.RunAsync("kill");

        Assert.Equal(0, kill.ExitCode);
        Assert.Equal("tend: no daemon running\n", kill.Stdout);
        AssertNoDaemonStarted();
    }

    [Fact]
    public async Task Kill_RunningDaemon_StopsAppsAndDaemon_ThenTheSocketIsGone()
    {
        InstanceInfo[] rows = await StartTwoAppsAsync();
        int daemon = _home.DaemonPid!.Value;

        CliResult kill = await _home.OkAsync("kill");

        Assert.Contains("daemon", kill.Stdout);
        Assert.All(rows, r => Assert.False(ProcFs.IsRunning(r.Pid!.Value), $"{r.Name}#{r.Instance} (pid {r.Pid}) survived kill"));
        await Eventually.TrueAsync(() => !ProcFs.IsRunning(daemon), "the daemon to exit");
        Assert.Equal("tend: no daemon running\n", (await _home.OkAsync("kill")).Stdout);
    }

    [Theory]
    [InlineData]
    [InlineData("frob")]
    [InlineData("stop")]
    [InlineData("list", "--bogus")] // not taken for a target (list, status web)
    [InlineData("stop", "--bogus")]
    [InlineData("env", "--bogus")]
    [InlineData("logs", "--bogus")]
    [InlineData("describe", "-x")]
    [InlineData("logs", "--lines", "x")]
    [InlineData("logs", "--lines", "-1")]
    [InlineData("signal", "SIGTERM")]
    [InlineData("signal", "SIGFOO", "web")]
    [InlineData("describe")]
    [InlineData("run")]
    [InlineData("run", "/nonexistent/tend.yaml")]
    public async Task BadUsage_ExitsTwoWithoutStartingADaemon(params string[] args)
    {
        CliResult result = await _home.RunAsync(args);

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.NotEqual("", result.Stderr.Trim());
        AssertNoDaemonStarted();
    }

    private static string[] Cells(string tableLine) => tableLine.Split('│', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    [GeneratedRegex(@"^tend \d+\.\d+\.\d+\S*\n")]
    private static partial Regex VersionLine();
}
