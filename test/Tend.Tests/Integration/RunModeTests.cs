using System.Diagnostics;
using Tend.Tests.Support;

namespace Tend.Tests.Integration;

/// <summary>`tend run`: the engine in the foreground, as a container's PID 1.</summary>
public sealed class RunModeTests : IAsyncLifetime
{
    private readonly TendHome _home = new();

    public Task InitializeAsync() => Task.CompletedTask;
    public async Task DisposeAsync() => await _home.DisposeAsync();

    [Fact]
    public async Task Only_ASupervisorsName_RunsItsSubtreeAndNothingElse()
    {
        string config = _home.WriteConfig("""
            apps:
              a: { run: echo from-a, restart: never }
              b: { run: echo from-b, restart: never }
              c: { run: echo from-c, restart: never }
            supervisors:
              pipe: { strategy: one_for_all, children: [a, b] }
            """);

        CliResult r = await _home.RunAsync("run", config, "--only", "pipe");

        Assert.Equal(0, r.ExitCode);
        Assert.Contains("from-a", r.Stdout);
        Assert.Contains("from-b", r.Stdout);
        Assert.DoesNotContain("from-c", r.Stdout);
        CliResult unknown = await _home.RunAsync("run", config, "--only", "pip");
        Assert.Equal(2, unknown.ExitCode);
        Assert.Contains("no app named \"pip\"; did you mean \"pipe\"?", unknown.Stderr);
    }

    [Fact]
    public async Task LogFormatJson_OneObjectPerAppLine_TextByDefault_AndABadFormatIsAnError()
    {
        string config = _home.WriteConfig("""
            apps:
              web: { run: "sh -c 'echo \"<hello> é\"; echo oops >&2'", restart: never, instances: 2 }
            """);

        CliResult json = await _home.RunAsync("run", config, "--log-format", "json");
        CliResult fromEnv = await _home.RunAsync(["run", config], new Dictionary<string, string> { ["TEND_LOG_FORMAT"] = "json" });
        CliResult text = await _home.RunAsync("run", config);

        Assert.True(json.ExitCode == 0, json.ToString());
        string[] outLines = json.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, outLines.Length);
        foreach (string line in outLines)
        {
            using var doc = System.Text.Json.JsonDocument.Parse(line);
            System.Text.Json.JsonElement e = doc.RootElement;
            Assert.Equal(("web", "stdout", "<hello> é"), (e.GetProperty("app").GetString(), e.GetProperty("stream").GetString(), e.GetProperty("line").GetString()));
            Assert.True(DateTimeOffset.TryParse(e.GetProperty("time").GetString(), out _));
        }
        Assert.Equal([0, 1], outLines.Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement.GetProperty("instance").GetInt32()).Order());
        Assert.Contains("\"stream\":\"stderr\",\"line\":\"oops\"", json.Stderr);
        Assert.Equal(2, fromEnv.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Count(l => l.StartsWith("{\"time\"", StringComparison.Ordinal)));
        Assert.Contains("web#0 | <hello> é", text.Stdout);

        CliResult bad = await _home.RunAsync("run", config, "--log-format", "yaml");
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("--log-format must be text or json, not 'yaml'", bad.Stderr);
        Assert.DoesNotContain("web", bad.Stdout);
    }

    [Fact]
    public async Task HealthListener_AnswersWhatAKubeletAsks_ReadinessFromTheAppsOwnReady1()
    {
        int port = FreePorts.Next();
        string config = _home.WriteConfig($"""
            apps:
              web:
                cmd: {TendHome.Child}
                args: [--notify-ready-after, "1500ms", --sleep]
                ready: {"{"} notify: true {"}"}
            """);
        using Process run = _home.StartCli(["run", config], new Dictionary<string, string> { ["TEND_HEALTH"] = $"127.0.0.1:{port}" });
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        try
        {
            await Eventually.ReturnsAsync<HttpResponseMessage?>(async () =>
            {
                try { return await http.GetAsync("/apps/web/health"); }
                catch (HttpRequestException) { return null; }
            }, r => r is not null, "the health listener");
            HttpResponseMessage ready = await Eventually.ReturnsAsync(() => http.GetAsync("/apps/web/health"), r => r.StatusCode == System.Net.HttpStatusCode.OK, "web ready after READY=1");
            Assert.Contains("web: healthy, 1/1 ready", await ready.Content.ReadAsStringAsync());
            Assert.Equal(System.Net.HttpStatusCode.OK, (await http.GetAsync("/live")).StatusCode);
            Assert.Equal(System.Net.HttpStatusCode.OK, (await http.GetAsync("/ready")).StatusCode);
            Assert.Equal(System.Net.HttpStatusCode.NotFound, (await http.GetAsync("/apps/nope/health")).StatusCode);
        }
        finally
        {
            ProcFs.Kill(run.Id, 15);
            await run.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        }
    }

    [Fact]
    public async Task RunAsPid1_ReapsOrphans_AndStopsEverythingOnSigterm()
    {
        string stamps = Path.Combine(_home.Dir, "stamps");
        string config = _home.WriteConfig($"""
            apps:
              app:
                cmd: {TendHome.Child}
                args: [--stamp, {stamps}, --sleep]
                instances: 2
              orphans:
                # Every second a short-lived orphan is re-parented to PID 1, which must reap it.
                run: /bin/sh -c 'while true; do (sleep 0.1 &); sleep 1; done'
            """);

        // A new PID namespace makes `tend run` PID 1, as in a container.
        var psi = new ProcessStartInfo("unshare", ["--pid", "--fork", "--kill-child", "--mount-proc", TestPaths.Cli, "run", config])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.Environment["TEND_HOME"] = _home.Dir;
        using var unshare = Process.Start(psi)!;
        var stdout = unshare.StandardOutput.ReadToEndAsync();
        var stderr = unshare.StandardError.ReadToEndAsync();

        // The tend process inside: the child of unshare.
        int tend = await Eventually.ReturnsAsync(() => ChildOf(unshare.Id), p => p > 0, "tend run inside the namespace");
        await Eventually.TrueAsync(() => File.Exists(stamps) && File.ReadAllLines(stamps).Count(l => l.Contains(" start ")) == 2, "two instances started");
        await Task.Delay(2500); // a few orphans come and go

        Assert.Empty(ZombieChildrenOf(tend));

        ProcFs.Kill(tend, 15);
        await unshare.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));

        Assert.True(unshare.ExitCode == 0, $"exit {unshare.ExitCode}\n{await stdout}\n{await stderr}");
        Assert.Equal(2, File.ReadAllLines(stamps).Count(l => l.Contains(" term ")));
        // As PID 1 the runtime reaps every child itself; the engine must still know how each one ended.
        string events = await stderr;
        Assert.Equal(3, events.Split('\n').Count(l => l.Contains("\"event_id\":1006")));
        Assert.DoesNotContain("status unknown", events);
        Assert.Empty(_home.LiveProcesses());
    }

    [Fact]
    public async Task Run_BadConfig_ExitsTwo()
    {
        string config = _home.WriteConfig("apps:\n  x:\n    run: \"\"\n");
        CliResult r = await _home.RunAsync("run", config);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("tend.yaml:3:10: apps.x.run:", r.Stderr);
    }

    [Fact]
    public async Task Run_JobFails_ExitsWithItsCode_AfterTheOthersFinish()
    {
        string config = _home.WriteConfig("""
            apps:
              job: { run: sh -c "sleep 0.3; exit 3", restart: never }
              fine: { run: "true", restart: never }
            """);
        CliResult r = await _home.RunAsync("run", config);
        Assert.True(r.ExitCode == 3, r.ToString());
        Assert.Contains("job#0", r.Stderr);
    }

    [Fact]
    public async Task Run_EveryJobSucceeds_ExitsZero()
    {
        string config = _home.WriteConfig("""
            apps:
              a: { run: "true", restart: never }
              b: { run: sh -c "exit 1", restart: on-failure, stop_exit_codes: [1] }
            """);
        CliResult r = await _home.RunAsync("run", config);
        Assert.True(r.ExitCode == 0, r.ToString());
    }

    [Fact]
    public async Task Run_JobKilledBySignal_Exits128PlusSignal()
    {
        string config = _home.WriteConfig("""
            apps:
              job: { run: sh -c 'kill -9 $$', restart: never }
            """);
        CliResult r = await _home.RunAsync("run", config);
        Assert.True(r.ExitCode == 137, r.ToString());
    }

    [Fact]
    public async Task Run_AppErrors_ExitsNonZero()
    {
        string config = _home.WriteConfig("""
            apps:
              crashy: { run: sh -c "exit 5", max_restarts: 1, backoff: { initial: 10ms } }
            """);
        CliResult r = await _home.RunAsync("run", config);
        Assert.True(r.ExitCode == 5, r.ToString());
        Assert.Contains("errored", r.Stderr);
    }

    [Fact]
    public async Task Run_StoppedBySigterm_ExitsZero()
    {
        string stamps = Path.Combine(_home.Dir, "stamps");
        string config = _home.WriteConfig($"""
            apps:
              server:
                cmd: {TendHome.Child}
                args: [--stamp, {stamps}, --sleep]
            """);
        using Process tend = _home.StartCli("run", config);
        var stderr = tend.StandardError.ReadToEndAsync();
        await Eventually.TrueAsync(() => File.Exists(stamps) && File.ReadAllText(stamps).Contains(" start "), "the server started");
        ProcFs.Kill(tend.Id, 15);
        await tend.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        Assert.True(tend.ExitCode == 0, await stderr);
        Assert.Contains(" term ", File.ReadAllText(stamps));
    }

    private static int ChildOf(int parent)
    {
        try
        {
            string children = File.ReadAllText($"/proc/{parent}/task/{parent}/children").Trim();
            return children.Length == 0 ? 0 : int.Parse(children.Split(' ')[0]);
        }
        catch (IOException) { return 0; }
    }

    private static List<int> ZombieChildrenOf(int parent)
    {
        var zombies = new List<int>();
        foreach (string dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out int pid)) continue;
            try
            {
                string stat = File.ReadAllText(Path.Combine(dir, "stat"));
                var f = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                if (f[0] == "Z" && f[1] == parent.ToString()) zombies.Add(pid);
            }
            catch (IOException) { }
        }
        return zombies;
    }
}
