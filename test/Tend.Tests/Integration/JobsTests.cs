using Tend.Api;
using Tend.Tests.Support;

namespace Tend.Tests.Integration;

/// <summary>
/// schedule: on a real daemon (docs/jobs.md): a job on a 1-second schedule runs and its history
/// shows in `tend jobs`, a failing run is a job_failed event with its exit and last lines,
/// `tend run-job` runs one now, and the history outlives the daemon.
/// </summary>
public sealed class JobsTests : IAsyncLifetime
{
    private readonly TendHome _home = new();

    public Task InitializeAsync() => Task.CompletedTask;
    public async Task DisposeAsync() => await _home.DisposeAsync();

    [Fact]
    public async Task EverySecond_RunsAndKeepsAHistory_FailuresAreEvents()
    {
        string config = _home.WriteConfig("""
            apps:
              tick:
                run: echo tick
                schedule: "* * * * * *"
              broken:
                run: sh -c 'echo working; echo disk full >&2; exit 3'
                schedule: { cron: "* * * * * *", concurrency: forbid }
            """);

        await _home.OkAsync("start", config);

        await Eventually.ReturnsAsync(async () => (await _home.OkAsync("jobs", "tick")).Stdout,
            t => t.Split('\n').Count(l => l.Contains("succeeded", StringComparison.Ordinal)) >= 2, "two runs of tick");
        CliResult all = await _home.OkAsync("jobs");
        Assert.Matches(@"tick\s+\* \* \* \* \* \*\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s+(succeeded|running)", all.Stdout);

        CliResult broken = await Eventually.ReturnsAsync(() => _home.OkAsync("jobs", "broken"), r => r.Stdout.Contains("failed", StringComparison.Ordinal), "a failed run");
        Assert.Contains("exit code 3", broken.Stdout);
        Assert.Contains("err: ", broken.Stdout);
        Assert.Contains("disk full", broken.Stdout);
        CliResult events = await _home.OkAsync("events", "--no-follow");
        Assert.Contains("job_failed", events.Stdout);
        Assert.Contains("job_succeeded", events.Stdout);

        AppInfo described = await _home.DescribeAsync("broken");
        Assert.NotNull(described.Job);
        Assert.Contains(described.Job.Runs, r => r.Outcome == "failed" && r.ExitCode == 3);
    }

    [Fact]
    public async Task RunJob_RunsNow_AndTheHistoryOutlivesTheDaemon()
    {
        string config = _home.WriteConfig("""
            apps:
              yearly:
                run: echo happy new year
                schedule: { cron: "0 0 1 1 *", timezone: Europe/Berlin }
              fails:
                run: sh -c 'exit 4'
                schedule: "0 0 1 1 *"
            """);
        await _home.OkAsync("start", config, "--wait-ready"); // a job has nothing to be ready for
        // Nothing runs at start: a job runs when its schedule says.
        Assert.All(await _home.ListAsync(), i => Assert.Null(i.Pid));
        Assert.Matches(@"yearly\s+0 0 1 1 \* \(Europe/Berlin\)\s+\S+ \S+\s+never", (await _home.OkAsync("jobs")).Stdout);

        CliResult ok = await _home.OkAsync("run-job", "yearly");
        Assert.Matches(@"yearly: run \d+ succeeded in", ok.Stdout);
        await _home.OkAsync("run-job", "yearly");
        CliResult failed = await _home.RunAsync("run-job", "fails");
        Assert.Equal(1, failed.ExitCode);
        Assert.Contains("fails: run 1 failed: exit code 4", failed.Stderr);
        CliResult unknown = await _home.RunAsync("run-job", "nope");
        Assert.NotEqual(0, unknown.ExitCode);
        Assert.Contains("no job \"nope\"", unknown.Stderr);

        int daemon = _home.DaemonPid!.Value;
        ProcFs.Kill(daemon, 9);
        await Eventually.TrueAsync(() => !ProcFs.IsRunning(daemon), "the daemon gone");

        // The next command brings the daemon back, and the job with its runs.
        await _home.ListAsync();
        CliResult history = await _home.OkAsync("jobs", "yearly");
        Assert.Equal(2, history.Stdout.Split('\n').Count(l => l.Contains("manual", StringComparison.Ordinal) && l.Contains("succeeded", StringComparison.Ordinal)));
        Assert.Contains("in Europe/Berlin", history.Stdout);
        Assert.Matches(@"next run: (2026-12-31|2027-01-01) ", history.Stdout);
    }
}
