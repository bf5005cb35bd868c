using Tend.Api;
using Tend.Tests.Support;

namespace Tend.Tests.Integration;

/// <summary>
/// watch: on a real daemon and real files (docs/config.md#watch): a burst of writes is one restart,
/// ignored paths (defaults, .gitignore, ignore:, Tend's own logs) restart nothing, a tree over the
/// watch limit is polled and says so, node_modules costs no watches, and watch restarts are not crashes.
/// </summary>
public sealed class WatchTests : IAsyncLifetime
{
    private readonly TendHome _home = new();

    public Task InitializeAsync() => Task.CompletedTask;
    public async Task DisposeAsync() => await _home.DisposeAsync();

    private string Project => Path.Combine(_home.Dir, "project");

    private string Write(string relative, string text)
    {
        string path = Path.Combine(Project, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
        return path;
    }

    private async Task<string> StartAsync(string watch, string extra = "")
    {
        Write("src/app.txt", "v0\n");
        string config = _home.WriteConfig($$"""
            apps:
              w:
                cmd: {{TendHome.Child}}
                args: [--sleep, "600"]
                cwd: {{Project}}
                watch: {{watch}}
            {{extra}}
            """);
        await _home.OkAsync("start", config, "--wait-ready");
        await Eventually.ReturnsAsync(() => _home.DescribeAsync("w"), a => a.Watch?.Mode?.StartsWith("inotify", StringComparison.Ordinal) == true || a.Watch?.Mode?.StartsWith("polling", StringComparison.Ordinal) == true, "the watch to be set up");
        return config;
    }

    private async Task<string[]> WatchEventsAsync()
    {
        CliResult events = await _home.OkAsync("events", "--no-follow");
        return [.. events.Stdout.Split('\n').Where(l => l.Contains("watch_restart", StringComparison.Ordinal) || l.Contains("watch_polling", StringComparison.Ordinal))];
    }

    private async Task<InstanceInfo> RestartedAsync(int restarts) =>
        (await _home.WaitForAsync(l => l.Single().Restarts == restarts && l.Single().Status == "online", $"restart {restarts}")).Single();

    [Fact]
    public async Task HundredRapidWrites_OneRestart()
    {
        await StartAsync("{ debounce: 300ms }");
        int pid = (await _home.ListAsync()).Single().Pid!.Value;

        for (int i = 0; i < 100; i++) File.AppendAllText(Path.Combine(Project, "src", "app.txt"), $"line {i}\n");

        InstanceInfo after = await RestartedAsync(1);
        Assert.NotEqual(pid, after.Pid);
        // Well past the debounce: still the one restart.
        await Task.Delay(TimeSpan.FromSeconds(2));
        Assert.Equal(1, (await _home.ListAsync()).Single().Restarts);
        string only = Assert.Single(await WatchEventsAsync());
        Assert.Contains("watch: src/app.txt changed: restart", only);
    }

    [Fact]
    public async Task Pm2sWatchFlags_OnACommand_IgnoreWhatTheyName()
    {
        // pm2 start app --watch --ignore-watch="cache/ *.tmp"
        Write("src/app.txt", "v0\n");
        CliResult start = await _home.RunAsync(["start", "-n", "w", "--watch", "--ignore-watch", "cache/ *.tmp", TendHome.Child, "--", "--sleep", "600"], null, cwd: Project);
        Assert.True(start.ExitCode == 0, start.ToString());
        AppInfo app = await Eventually.ReturnsAsync(() => _home.DescribeAsync("w"), a => a.Watch?.Mode?.StartsWith("inotify", StringComparison.Ordinal) == true, "the watch to be set up");
        Assert.Equal(["cache/", "*.tmp"], app.Watch!.Ignore);
        Assert.Equal([Project], app.Watch.Paths);

        Write("cache/entry", "x");
        Write("notes.tmp", "x");
        Write("src/real.txt", "the change that counts");

        await RestartedAsync(1);
        await Task.Delay(TimeSpan.FromSeconds(1));
        string[] events = await WatchEventsAsync();
        Assert.True(events.Length == 1 && events[0].Contains("watch: src/real.txt changed", StringComparison.Ordinal), string.Join("\n", events));
        Assert.Equal(2, (await _home.RunAsync(["start", "-n", "v", "--ignore-watch", "cache/", TendHome.Child], null, cwd: Project)).ExitCode); // without --watch
    }

    [Fact]
    public async Task IgnoredPaths_RestartNothing_ThenARealChangeRestartsOnce()
    {
        Write(".gitignore", "build/\n*.tmp\n");
        Write("node_modules/dep/index.js", "x");
        Write("build/out.js", "x");
        await StartAsync("{ ignore: [\"cache/\"], debounce: 200ms }", extra: $"""
                log: {"{"} out_file: "{Path.Combine(Project, "logs", "w-out.log")}" {"}"}
            """);

        File.AppendAllText(Path.Combine(Project, "node_modules", "dep", "index.js"), "changed");   // default
        File.AppendAllText(Path.Combine(Project, "build", "out.js"), "changed");                   // .gitignore
        Write("notes.tmp", "x");                                                                    // .gitignore
        Write("cache/entry", "x");                                                                  // ignore:
        Write(".git/HEAD", "ref");                                                                  // default
        File.AppendAllText(Path.Combine(Project, "logs", "w-out.log"), "a line\n");                 // Tend's own
        Write("src/real.txt", "the change that counts");

        await RestartedAsync(1);
        await Task.Delay(TimeSpan.FromSeconds(1));
        string[] events = await WatchEventsAsync();
        Assert.True(events.Length == 1 && events[0].Contains("watch: src/real.txt changed", StringComparison.Ordinal), string.Join("\n", events));
        Assert.Equal(1, (await _home.ListAsync()).Single().Restarts);
    }

    [Fact]
    public async Task OverTheWatchLimit_FallsBackToPolling_WithAnEvent_AndStillRestarts()
    {
        for (int i = 0; i < 10; i++) Write($"d{i}/file.txt", "x");
        await StartAsync("{ max_watches: 3, poll_interval: 200ms, debounce: 100ms }");

        AppInfo app = await _home.DescribeAsync("w");
        Assert.StartsWith("polling every 200ms", app.Watch!.Mode);
        Assert.Contains("more than max_watches (3)", app.Watch.Mode);
        string polling = Assert.Single(await WatchEventsAsync());
        Assert.Contains("watch_polling", polling);

        File.AppendAllText(Path.Combine(Project, "d7", "file.txt"), "changed");
        await RestartedAsync(1);
        Assert.Contains(await WatchEventsAsync(), l => l.Contains("watch: d7/file.txt changed", StringComparison.Ordinal));
    }

    [Fact]
    public async Task HugeNodeModules_CostsNoWatches()
    {
        // 100,000 files in 1,000 directories under node_modules, and a small source tree.
        for (int d = 0; d < 1000; d++)
        {
            string dir = Path.Combine(Project, "node_modules", $"pkg{d / 50}", $"m{d}");
            Directory.CreateDirectory(dir);
            for (int f = 0; f < 100; f++) File.WriteAllText(Path.Combine(dir, $"f{f}.js"), "");
        }
        Write("src/lib/a.txt", "x");
        await StartAsync("{ max_watches: 100 }");

        AppInfo app = await _home.DescribeAsync("w");
        Assert.Equal("inotify: 3 directories", app.Watch!.Mode); // project, src, src/lib
        File.AppendAllText(Path.Combine(Project, "src", "lib", "a.txt"), "changed");
        await RestartedAsync(1);
    }

    [Fact]
    public async Task WatchRestarts_AreNotCrashes_AndANewDirectoryIsWatched()
    {
        await StartAsync("{ debounce: 100ms }", extra: """
                max_restarts: 1
                min_uptime: 1h
            """);

        for (int r = 1; r <= 3; r++)
        {
            Write($"src/new{r}/file.txt", $"change {r}");
            await RestartedAsync(r);
        }
        // A file in a directory made after the start: the directory was added to the watch.
        File.AppendAllText(Path.Combine(Project, "src", "new1", "file.txt"), "again");
        InstanceInfo last = await RestartedAsync(4);
        Assert.Equal("online", last.Status); // four restarts inside min_uptime, max_restarts 1: not a crash loop
    }
}
