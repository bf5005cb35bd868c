using Tend.Api;
using Tend.Tests.Support;

namespace Tend.Tests.Integration;

/// <summary>
/// `tend start` through the real binary and a real daemon: what the CLI sends is judged by what
/// the daemon then runs (list, describe, and the child's own output in its log file).
/// </summary>
public sealed class CliStartTests : IAsyncLifetime
{
    private readonly TendHome _home = new();

    public Task InitializeAsync() => Task.CompletedTask;
    public async Task DisposeAsync() => await _home.DisposeAsync();

    private string ThreeApps(string extraArg = "--sleep") => _home.WriteConfig($"""
        apps:
          alpha:
            cmd: {TendHome.Child}
            args: [{extraArg}]
          beta:
            cmd: {TendHome.Child}
            args: [{extraArg}]
          gamma:
            cmd: {TendHome.Child}
            args: [{extraArg}]
        """);

    private Task<string> LogTextAsync(string app, int instance, string mustContain) =>
        Eventually.ReturnsAsync(
            () => File.Exists(LogPath(app, instance)) ? File.ReadAllText(LogPath(app, instance)) : "",
            t => t.Contains(mustContain, StringComparison.Ordinal),
            $"\"{mustContain}\" in the log of {app}#{instance}");

    private string LogPath(string app, int instance) => Path.Combine(_home.LogsDir, $"{app}-{instance}.out.log");

    private void AssertNoDaemonStarted()
    {
        Assert.Null(_home.DaemonPid);
        Assert.False(File.Exists(Path.Combine(_home.Dir, ApiRoutes.SocketFileName)), "a daemon socket appeared");
        Assert.Empty(_home.LiveProcesses());
    }

    [Fact]
    public async Task Start_Command_NameInstancesDashDashArgsCwdAndEnv_ReachTheApp()
    {
        string cwd = Directory.CreateDirectory(Path.Combine(_home.Dir, "work")).FullName;

        // Words after -- belong to the command, even when they look like tend's own options.
        CliResult start = await _home.RunAsync(
            ["start", "--name", "web", "-i", "2", TendHome.Child, "--", "--echo", "hello", "-n", "x", "--only", "y", "--print-env", "--sleep"],
            new Dictionary<string, string> { ["FROM_SHELL"] = "shell value" },
            cwd: cwd);

        Assert.True(start.ExitCode == 0, start.ToString());
        Assert.StartsWith("started web\n┌", start.Stdout);
        InstanceInfo[] list = await _home.WaitForAsync(l => l.Length == 2 && l.All(i => i.Status == "online"), "web#0 and web#1 online");
        Assert.Equal(["web#0", "web#1"], list.Select(i => $"{i.Name}#{i.Instance}"));

        AppInfo web = await _home.DescribeAsync("web");
        Assert.Equal(TendHome.Child, web.Command);
        Assert.Equal(["--echo", "hello", "-n", "x", "--only", "y", "--print-env", "--sleep"], web.Args);
        Assert.Equal(cwd, web.Cwd);
        Assert.Equal(2, web.InstancesWanted);
        Assert.Null(web.ConfigPath);

        for (int n = 0; n < 2; n++)
        {
            string log = await LogTextAsync("web", n, "TEND_INSTANCE=");
            Assert.Contains(" hello\n", log); // after the timestamp
            Assert.Contains("FROM_SHELL=shell value\n", log);
            Assert.Contains("TEND_APP=web\n", log);
            Assert.Contains($"TEND_INSTANCE={n}\n", log);
        }
        Assert.All(list, i => Assert.Equal(cwd, new DirectoryInfo($"/proc/{i.Pid}/cwd").LinkTarget));
    }

    [Fact]
    public async Task Start_CommandWithoutName_IsNamedAfterTheExecutable()
    {
        await _home.OkAsync("start", TendHome.Child, "--", "--sleep");

        InstanceInfo only = (await _home.WaitForAsync(l => l.Length == 1 && l[0].Status == "online", "testchild online")).Single();
        Assert.Equal("testchild", only.Name);
        Assert.True(ProcFs.IsRunning(only.Pid!.Value));
    }

    [Fact]
    public async Task Start_AScriptByItsName_RunsUnderItsInterpreter_NamedWithoutItsExtension()
    {
        // As `pm2 start app.py` / `pm2 start app.js`: a script that is not executable, named as it lies in the cwd.
        string cwd = Directory.CreateDirectory(Path.Combine(_home.Dir, "project")).FullName;
        string script = Path.Combine(cwd, "app.py");
        File.WriteAllText(script, "import sys, time\nprint('args', sys.argv[1:], flush=True)\ntime.sleep(1000)\n");

        CliResult start = await _home.RunAsync(["start", "app.py", "--", "--port", "3000"], null, cwd: cwd);

        Assert.True(start.ExitCode == 0, start.ToString());
        InstanceInfo only = (await _home.WaitForAsync(l => l.Length == 1 && l[0].Status == "online", "app online")).Single();
        Assert.Equal("app", only.Name);
        await LogTextAsync("app", 0, "args ['--port', '3000']");
        AppInfo app = await _home.DescribeAsync("app");
        Assert.Equal("python3", app.Command);
        Assert.Equal([script, "--port", "3000"], app.Args);
    }

    [Fact]
    public async Task Start_Pm2Flags_SetTheAppsKeys_AndABadValueStartsNothing()
    {
        string cwd = Directory.CreateDirectory(Path.Combine(_home.Dir, "work")).FullName;

        // As `pm2 start … --max-memory-restart 300M --no-autorestart --kill-timeout 3000 --watch`.
        CliResult start = await _home.RunAsync(
            ["start", "--name", "once", "--max-memory-restart", "300M", "--no-autorestart", "--kill-timeout", "3000", "--restart-delay", "2s",
             "--max-restarts", "4", "--watch", TendHome.Child, "--", "--echo", "ran once", "--exit-after", "1500ms"],
            null, cwd: cwd);

        Assert.True(start.ExitCode == 0, start.ToString());
        await LogTextAsync("once", 0, "ran once");
        AppInfo once = await Eventually.ReturnsAsync(() => _home.DescribeAsync("once"), a => a.Instances.Single().Pid is null && a.Instances.Single().Status is "stopped" or "errored", "once ended after its exit");
        Assert.Equal((300L << 20, "never", 3000L, 2000L, 4), (once.MaxMemoryBytes, once.Restart, once.KillTimeoutMs, once.RestartDelayMs, once.MaxRestarts));
        Assert.Equal([cwd], once.Watch?.Paths);
        Assert.Equal(0, once.Instances.Single().Restarts); // --no-autorestart: the exit was final

        CliResult bad = await _home.RunAsync(["start", "--name", "bad", "--max-memory-restart", "lots", TendHome.Child, "--", "--sleep"], null, cwd: cwd);
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("max_memory", bad.Stderr);
        CliResult onConfig = await _home.RunAsync("start", ThreeApps(), "--watch");
        Assert.Equal(2, onConfig.ExitCode);
        Assert.Contains("watch: these flags apply to a command", onConfig.Stderr);
        Assert.Equal(["once"], (await _home.ListAsync()).Select(i => i.Name));
    }

    [Fact]
    public async Task Start_Pm2BackoffUptimeAndUserFlags_SetTheAppsKeys()
    {
        // As `pm2 start … --exp-backoff-restart-delay 200 --min-uptime 3000 --uid nobody --gid nogroup`.
        CliResult start = await _home.RunAsync(
            ["start", "--name", "steady", "--exp-backoff-restart-delay", "200", "--min-uptime", "3000", "--uid", "nobody", "--gid", "nogroup", "--cwd", "/",
             "sh", "--", "-c", "id -un; exec sleep 600"]);

        Assert.True(start.ExitCode == 0, start.ToString());
        await LogTextAsync("steady", 0, "nobody");
        AppInfo steady = await _home.DescribeAsync("steady");
        Assert.Equal(new BackoffInfo(200, 15_000, 1.5, 0), steady.Backoff);
        Assert.Equal(3000L, steady.MinUptimeMs);
        Assert.Equal(("nobody", 65534u), (steady.Isolation?.User, steady.Isolation?.Uid));

        CliResult bad = await _home.RunAsync("start", "--name", "bad", "--exp-backoff-restart-delay", "soon", "sleep", "60");
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("backoff.initial", bad.Stderr);
        Assert.Equal(2, (await _home.RunAsync("start", "--name", "bad", "--uid", "no-such-user-here", "sleep", "60")).ExitCode);
        Assert.Equal(["steady"], (await _home.ListAsync()).Select(i => i.Name));
    }

    [Fact]
    public async Task Restart_UpdateEnv_TakesThisShellsEnvironment_WithoutItTheOldOneStays()
    {
        // As `pm2 restart api --update-env`, for an app started from a command and one from a config file.
        async Task Ok(string[] args, string tag)
        {
            CliResult r = await _home.RunAsync(args, new Dictionary<string, string> { ["DEPLOY_TAG"] = tag });
            Assert.True(r.ExitCode == 0, r.ToString());
        }
        await Ok(["start", "--name", "adhoc", TendHome.Child, "--", "--print-env", "--sleep"], "one");
        string config = _home.WriteConfig($"""
            apps:
              declared:
                cmd: {TendHome.Child}
                args: [--print-env, --sleep]
                env: {"{"} FROM_FILE: first {"}"}
            """);
        await Ok(["start", config], "one");
        await LogTextAsync("adhoc", 0, "DEPLOY_TAG=one");
        await LogTextAsync("declared", 0, "FROM_FILE=first");

        await Ok(["restart", "adhoc"], "two");
        // The restarted process prints its environment again: the one it was started with.
        string printedTwice = await Eventually.ReturnsAsync(() => File.ReadAllText(LogPath("adhoc", 0)),
            t => t.Split("DEPLOY_TAG=").Length == 3, "adhoc's environment printed by its second process");
        Assert.DoesNotContain("DEPLOY_TAG=two", printedTwice);

        _home.WriteConfig($"""
            apps:
              declared:
                cmd: {TendHome.Child}
                args: [--print-env, --sleep]
                env: {"{"} FROM_FILE: second {"}"}
            """);
        await Ok(["restart", "all", "--update-env"], "two");
        await LogTextAsync("adhoc", 0, "DEPLOY_TAG=two");
        await LogTextAsync("declared", 0, "FROM_FILE=second");
        Assert.Equal("two", (await _home.DescribeAsync("adhoc")).Env["DEPLOY_TAG"]);
        Assert.Equal("second", (await _home.DescribeAsync("declared")).Env["FROM_FILE"]);
    }

    [Fact]
    public async Task Start_ConfigOnly_StartsJustThoseApps()
    {
        CliResult start = await _home.OkAsync("start", ThreeApps(), "--only", "alpha, gamma");

        Assert.StartsWith("started alpha, gamma\n", start.Stdout);
        InstanceInfo[] list = await _home.WaitForAsync(l => l.Length == 2 && l.All(i => i.Status == "online"), "alpha and gamma online");
        Assert.Equal(["alpha", "gamma"], list.Select(i => i.Name));
        Assert.Equal(Path.Combine(_home.Dir, "tend.yaml"), (await _home.DescribeAsync("alpha")).ConfigPath);
    }

    [Fact]
    public async Task Start_ConfigOnlyUnknownName_ExitsTwoWithSuggestion_AndStartsNothing()
    {
        CliResult start = await _home.RunAsync("start", ThreeApps(), "--only", "alpha,betta");

        Assert.Equal(2, start.ExitCode);
        Assert.Contains("no app named \"betta\"; did you mean \"beta\"?", start.Stderr);
        Assert.Empty(await _home.ListAsync());
    }

    [Fact]
    public async Task Start_NoArguments_UsesTendYamlInTheCurrentDirectory()
    {
        ThreeApps();

        await _home.OkAsync("start");

        await _home.WaitForAsync(l => l.Length == 3 && l.All(i => i.Status == "online"), "three apps online");
    }

    [Fact]
    public async Task Start_SameConfigTwice_IsANoOp()
    {
        string config = ThreeApps();
        await _home.OkAsync("start", config);
        InstanceInfo[] before = await _home.WaitForAsync(l => l.Length == 3 && l.All(i => i.Status == "online"), "three apps online");

        CliResult again = await _home.OkAsync("start", config);

        Assert.StartsWith("nothing to start (alpha already running; beta already running; gamma already running)\n", again.Stdout);
        InstanceInfo[] after = await _home.ListAsync();
        Assert.Equal(before.Select(i => (i.Name, i.Pid)), after.Select(i => (i.Name, i.Pid)));
        Assert.All(after, i => Assert.Equal(0, i.Restarts));
    }

    [Fact]
    public async Task Start_ChangedConfig_ReplacesTheChangedApps()
    {
        await _home.OkAsync("start", ThreeApps());
        InstanceInfo[] before = await _home.WaitForAsync(l => l.Length == 3 && l.All(i => i.Status == "online"), "three apps online");

        // Same names, new args: every app's spec differs, so every app is replaced.
        CliResult again = await _home.OkAsync("start", ThreeApps("--sleep, --echo, v2"));

        Assert.StartsWith("started alpha, beta, gamma\n", again.Stdout);
        InstanceInfo[] after = await _home.WaitForAsync(
            l => l.Length == 3 && l.All(i => i.Status == "online" && before.All(b => b.Pid != i.Pid)), "three apps online with new pids");
        Assert.All(before, b => Assert.False(ProcFs.IsRunning(b.Pid!.Value), $"old pid {b.Pid} of {b.Name} still running"));
        Assert.Equal(["--sleep", "--echo", "v2"], (await _home.DescribeAsync("beta")).Args);
        await LogTextAsync("beta", 0, "v2\n");
    }

    [Fact]
    public async Task StartOrReload_StartsWhatIsNew_ReloadsWhatRuns_AsTheFileIsNow_ThenStartOrRestartRestarts()
    {
        // PM2's deploy-script commands: `pm2 startOrReload ecosystem.config.js` and startOrRestart.
        string OneApp() => _home.WriteConfig($"""
            apps:
              web:
                cmd: {TendHome.Child}
                args: [--sleep]
            """);
        string config = OneApp();
        Assert.StartsWith("started web\n", (await _home.OkAsync("startOrReload", config)).Stdout);
        InstanceInfo[] first = await _home.WaitForAsync(l => l.Length == 1 && l[0].Status == "online", "web online");

        _home.WriteConfig($"""
            apps:
              web:
                cmd: {TendHome.Child}
                args: [--echo, v2, --sleep]
                instances: 2
              worker:
                cmd: {TendHome.Child}
                args: [--sleep]
            """);
        CliResult reload = await _home.OkAsync("startOrReload", config);

        Assert.StartsWith("started worker; reloaded web; scaled web from 1 to 2 instances: started web#1\n", reload.Stdout);
        InstanceInfo[] second = await _home.WaitForAsync(l => l.Length == 3 && l.All(i => i.Status == "online"), "web#0, web#1 and worker online");
        Assert.NotEqual(first[0].Pid, second.Single(i => i is { Name: "web", Instance: 0 }).Pid);
        Assert.Equal(["--echo", "v2", "--sleep"], (await _home.DescribeAsync("web")).Args);
        await LogTextAsync("web", 0, "v2\n");
        // A reload, rolled instance by instance, not the replacement `tend start` does to a changed app.
        string events = (await _home.OkAsync("events", "--json", "--no-follow")).Stdout;
        Assert.Contains("\"reload_done\"", events);
        Assert.DoesNotContain("\"app_replaced\"", events);

        CliResult restart = await _home.OkAsync("startOrRestart", config);
        Assert.StartsWith("restarted web#0, web#1; restarted worker#0\n", restart.Stdout);
        await _home.WaitForAsync(l => l.Length == 3 && l.All(i => i.Status == "online" && second.All(s => s.Pid != i.Pid)), "all three restarted");

        // A command is not what these take: refused, and nothing started or touched.
        CliResult command = await _home.RunAsync("startOrReload", TendHome.Child, "--", "--sleep");
        Assert.Equal(2, command.ExitCode);
        Assert.Contains("takes a config file", command.Stderr);
        Assert.Equal(3, (await _home.ListAsync()).Length);
    }

    [Fact]
    public async Task Pid_PrintsTheRunningInstancesPids_ListTakesATarget_AnUnknownTargetIsAnError_AndPm2sSendSignalAndDumpWork()
    {
        // As `kill -USR1 $(pm2 pid web)` in a script.
        await _home.OkAsync("start", "--name", "web", "-i", "2", TendHome.Child, "--", "--sleep");
        await _home.OkAsync("start", "--name", "other", TendHome.Child, "--", "--sleep");
        InstanceInfo[] list = await _home.WaitForAsync(l => l.Length == 3 && l.All(i => i.Status == "online"), "three instances online");
        int[] web = [.. list.Where(i => i.Name == "web").OrderBy(i => i.Instance).Select(i => i.Pid!.Value)];

        Assert.Equal(string.Join("\n", web) + "\n", (await _home.OkAsync("pid", "web")).Stdout);
        Assert.Equal($"{web[1]}\n", (await _home.OkAsync("pid", "web#1")).Stdout);
        Assert.Equal(3, (await _home.OkAsync("pid")).Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        // `tend status web` (as systemctl status names a unit; list and ls alike): only its rows.
        string table = (await _home.OkAsync("status", "web")).Stdout;
        Assert.Equal(2, table.Split('\n').Count(l => l.Contains(" web ", StringComparison.Ordinal)));
        Assert.DoesNotContain(" other ", table);
        using (var one = System.Text.Json.JsonDocument.Parse((await _home.OkAsync("ls", "web#1", "--json")).Stdout))
            Assert.Equal(web[1], Assert.Single(one.RootElement.EnumerateArray()).GetProperty("pid").GetInt32());
        CliResult noRows = await _home.RunAsync("list", "nope");
        Assert.Equal((1, ""), (noRows.ExitCode, noRows.Stdout));
        Assert.Contains("apps: web, other", noRows.Stderr);

        await _home.OkAsync("stop", "other");
        Assert.Equal("", (await _home.OkAsync("pid", "other")).Stdout);
        using (var pids = System.Text.Json.JsonDocument.Parse((await _home.OkAsync("pid", "--json")).Stdout))
        {
            Assert.Equal([$"web 0 {web[0]}", $"web 1 {web[1]}", "other 0 -"], pids.RootElement.EnumerateArray().Select(e =>
                $"{e.GetProperty("name").GetString()} {e.GetProperty("instance").GetInt32()} {(e.GetProperty("pid").ValueKind == System.Text.Json.JsonValueKind.Null ? "-" : e.GetProperty("pid").GetInt32())}"));
        }

        CliResult unknown = await _home.RunAsync("pid", "nope");
        Assert.Equal(1, unknown.ExitCode);
        Assert.Contains("no app or instance \"nope\"", unknown.Stderr);
        Assert.Equal("", unknown.Stdout);

        // PM2's other names: sendSignal for signal, dump for save.
        Assert.StartsWith("sent SIGKILL to the main process of web#1\n", (await _home.OkAsync("sendSignal", "SIGKILL", "web#1")).Stdout);
        await _home.WaitForAsync(l => l.Single(i => i is { Name: "web", Instance: 1 }) is { Status: "online" } w && w.Pid != web[1], "web#1 back with a new pid");
        Assert.StartsWith("saved 2 apps to ", (await _home.OkAsync("dump")).Stdout);
    }

    [Fact]
    public async Task Start_Pm2sInterpreterCwdAndLogFileFlags_ReachTheApp()
    {
        // pm2 start job.sh --interpreter sh --interpreter-args "-e" --cwd work -o logs/out.txt -e logs/err.txt --time -- a b
        string work = Directory.CreateDirectory(Path.Combine(_home.Dir, "work")).FullName;
        File.WriteAllText(Path.Combine(work, "job.sh"), "echo \"args:$*\"\necho \"cwd:$(pwd)\"\necho \"flags:$-\"\necho oops >&2\nexec sleep 1000\n"); // not executable
        CliResult start = await _home.RunAsync(
            ["start", "job.sh", "--interpreter", "sh", "--interpreter-args", "-e", "--cwd", "work", "-o", "logs/out.txt", "-e", "logs/err.txt", "--time", "--", "a", "b"],
            null, cwd: _home.Dir);
        Assert.True(start.ExitCode == 0, start.ToString());

        await _home.WaitForAsync(l => l.SingleOrDefault(i => i.Name == "job") is { Status: "online" }, "job online (named after the script, not the interpreter)");
        string outFile = Path.Combine(_home.Dir, "logs", "out.txt"), errFile = Path.Combine(_home.Dir, "logs", "err.txt");
        string output = await Eventually.ReturnsAsync(() => File.Exists(outFile) ? File.ReadAllText(outFile) : "", t => t.Contains("flags:", StringComparison.Ordinal), "the script's lines in out.txt");
        Assert.Contains(" args:a b\n", output); // after its timestamp
        Assert.Contains($" cwd:{work}\n", output);
        Assert.Matches(@"flags:\w*e", output); // sh ran with -e
        Assert.EndsWith(" oops\n", await Eventually.ReturnsAsync(() => File.Exists(errFile) ? File.ReadAllText(errFile) : "", t => t.Contains("oops", StringComparison.Ordinal), "oops in err.txt"));
        Assert.False(File.Exists(Path.Combine(_home.LogsDir, "job-0.out.log")), "stdout also went to the default log file");

        // Flags a command takes and a config file does not: usage errors that start nothing.
        _home.WriteConfig("{}", "tend.json");
        foreach (string[] bad in new[] { new[] { "start", "tend.json", "--cwd", "work" }, ["start", "tend.json", "--interpreter", "sh"], ["start", "--interpreter", "none", "--node-args", "-x", "job.sh"] })
        {
            CliResult refused = await _home.RunAsync(bad);
            Assert.True(refused.ExitCode == 2, refused.ToString());
        }
        Assert.Single(await _home.ListAsync());
    }

    [Fact]
    public async Task Env_PrintsWhatEachProcessStartedWith_OrWhatTheNextStartGets_AndPrettylistIndentsTheList()
    {
        // pm2 env 1; pm2 prettylist
        CliResult start = await _home.RunAsync(["start", "--name", "web", "-i", "2", TendHome.Child, "--", "--sleep"],
            new Dictionary<string, string> { ["FROM_SHELL"] = "shell value", ["DB_PASSWORD"] = "hunter2" });
        Assert.True(start.ExitCode == 0, start.ToString());
        InstanceInfo[] list = await _home.WaitForAsync(l => l.Length == 2 && l.All(i => i.Status == "online"), "web#0 and web#1 online");
        InstanceInfo second = list.Single(i => i.Instance == 1);

        string env = (await _home.OkAsync("env", "web#1")).Stdout;
        string[] lines = env.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal($"# web#1 (id {second.Id}): pid {second.Pid}, as it started", lines[0]);
        Assert.Contains("FROM_SHELL=shell value", lines);
        Assert.Contains("TEND_INSTANCE=1", lines);
        Assert.Contains("TEND_APP=web", lines);
        Assert.Contains("DB_PASSWORD=********", lines); // masked, as describe masks it
        Assert.DoesNotContain("hunter2", env);
        Assert.Equal([.. lines.Skip(1).Order(StringComparer.Ordinal)], lines.Skip(1)); // sorted by name
        // By id, as PM2 users type it; and every instance of the app, each under its own line.
        Assert.StartsWith($"# web#1 (id {second.Id}): pid {second.Pid}", (await _home.OkAsync("env", second.Id.ToString(System.Globalization.CultureInfo.InvariantCulture))).Stdout);
        Assert.Equal(2, (await _home.OkAsync("env", "web")).Stdout.Split('\n').Count(l => l.StartsWith("# web#", StringComparison.Ordinal)));

        await _home.OkAsync("stop", "web");
        string next = (await _home.OkAsync("env", "web#0")).Stdout;
        Assert.StartsWith("# web#0 (id ", next);
        Assert.Contains("): not running; what its next start gets\n", next);
        Assert.Contains("\nTEND_INSTANCE=0\n", next);
        Assert.Contains("\nFROM_SHELL=shell value\n", next);

        CliResult unknown = await _home.RunAsync("env", "nope");
        Assert.Equal(1, unknown.ExitCode);
        Assert.Equal("", unknown.Stdout);
        using (var json = System.Text.Json.JsonDocument.Parse((await _home.OkAsync("env", "web", "--json")).Stdout))
        {
            Assert.Equal(2, json.RootElement.GetArrayLength());
            Assert.Equal("1", json.RootElement[1].GetProperty("env").GetProperty("TEND_INSTANCE").GetString());
        }

        string pretty = (await _home.OkAsync("prettylist")).Stdout;
        Assert.StartsWith("[\n  {\n", pretty);
        using var prettyDoc = System.Text.Json.JsonDocument.Parse(pretty);
        using var compactDoc = System.Text.Json.JsonDocument.Parse((await _home.OkAsync("jlist")).Stdout);
        Assert.Equal(
            compactDoc.RootElement.EnumerateArray().Select(e => (e.GetProperty("id").GetInt32(), e.GetProperty("status").GetString())),
            prettyDoc.RootElement.EnumerateArray().Select(e => (e.GetProperty("id").GetInt32(), e.GetProperty("status").GetString())));
    }

    [Fact]
    public async Task InitWritesAConfigThatChecksAndStarts_CheckNamesTheLinesOfWhatIsWrong_WithoutADaemon()
    {
        string dir = Directory.CreateDirectory(Path.Combine(_home.Dir, "project")).FullName;
        Task<CliResult> In(params string[] args) => _home.RunAsync(args, null, cwd: dir);

        CliResult init = await In("init");
        Assert.True(init.ExitCode == 0, init.ToString());
        Assert.Equal("wrote tend.yaml: `tend start` runs it, `tend check` checks a change\n", init.Stdout);
        string template = File.ReadAllText(Path.Combine(dir, "tend.yaml"));
        Assert.Equal(2, (await In("init")).ExitCode); // never over a file that is there
        Assert.Equal(0, (await In("init", "--force")).ExitCode);

        // The template as written, and with every commented key taken in: both load.
        File.WriteAllText(Path.Combine(dir, "all-keys.yaml"), System.Text.RegularExpressions.Regex.Replace(template, @"(?m)^(\s+)#(\w+:|  \w+:)", "$1$2"));
        Assert.Contains("\n    restart: on-failure", File.ReadAllText(Path.Combine(dir, "all-keys.yaml")));
        CliResult check = await In("check", "tend.yaml", "all-keys.yaml");
        Assert.True(check.ExitCode == 0, check.ToString());
        Assert.Equal($"{dir}/tend.yaml: ok: 1 app (hello ×2)\n{dir}/all-keys.yaml: ok: 1 app (hello ×2)\n", check.Stdout);

        File.WriteAllText(Path.Combine(dir, "bad.yaml"), "apps:\n  x:\n    run: no-such-program-here\n    instances: zero\n");
        CliResult bad = await In("validate", "bad.yaml", "tend.yaml");
        Assert.Equal(2, bad.ExitCode);
        Assert.Equal($"{dir}/tend.yaml: ok: 1 app (hello ×2)\n", bad.Stdout); // the good one is still checked
        Assert.Contains($"{dir}/bad.yaml:4:16: apps.x.instances:", bad.Stderr);
        Assert.Contains($"{dir}/bad.yaml:3:10: apps.x.run: executable \"no-such-program-here\" not found", bad.Stderr);
        File.WriteAllText(Path.Combine(dir, "ecosystem.config.js"), "module.exports = { apps: [{ name: 'a', script: 'a.js' }] };\n");
        CliResult foreign = await In("check", "ecosystem.config.js");
        Assert.Equal(2, foreign.ExitCode);
        Assert.Contains("a pm2 config, not a tend.yaml: `tend import pm2 ", foreign.Stderr);
        Assert.Equal(2, (await In("check", "missing.yaml")).ExitCode);
        CliResult json = await In("check", "tend.yaml", "bad.yaml", "--json");
        Assert.Equal(2, json.ExitCode);
        using (var files = System.Text.Json.JsonDocument.Parse(json.Stdout))
        {
            var (good, wrong) = (files.RootElement[0], files.RootElement[1]);
            Assert.True(good.GetProperty("ok").GetBoolean());
            Assert.Equal("hello", Assert.Single(good.GetProperty("apps").EnumerateArray()).GetProperty("name").GetString());
            Assert.False(wrong.GetProperty("ok").GetBoolean());
            Assert.Contains(wrong.GetProperty("errors").EnumerateArray(), e => e.GetProperty("line").GetInt32() == 4
                && e.GetProperty("column").GetInt32() == 16 && e.GetProperty("field").GetString() == "apps.x.instances");
        }
        AssertNoDaemonStarted();

        CliResult start = await In("start");
        Assert.True(start.ExitCode == 0, start.ToString());
        await _home.WaitForAsync(l => l.Length == 2 && l.All(i => i is { Name: "hello", Status: "online" }), "the template's two instances online");
        await LogTextAsync("hello", 1, "hello from hello#1");
    }

    [Fact]
    public async Task Start_MissingConfigFile_ExitsTwoWithoutStartingADaemon()
    {
        CliResult start = await _home.RunAsync("start", "missing.yaml");

        Assert.Equal(2, start.ExitCode);
        Assert.Equal($"error: config file not found: {Path.Combine(_home.Dir, "missing.yaml")}\n", start.Stderr);
        AssertNoDaemonStarted();
    }

    [Theory]
    [InlineData("start")] // no tend.yaml in the directory
    [InlineData("start", "node", "--only", "api")]
    [InlineData("start", "-i", "-2", "node")] // 0 and -1 are PM2's spellings of per-CPU counts
    [InlineData("start", "-i", "many", "node")]
    [InlineData("start", "--bogus", "node")]
    [InlineData("start", "tend.json", "-n", "x")]
    [InlineData("start", "tend.json", "extra")]
    public async Task Start_BadUsage_ExitsTwoWithoutStartingADaemon(params string[] args)
    {
        _home.WriteConfig("{}", "tend.json");

        CliResult start = await _home.RunAsync(args);

        Assert.True(start.ExitCode == 2, start.ToString());
        Assert.NotEqual("", start.Stderr.Trim());
        AssertNoDaemonStarted();
    }
}
