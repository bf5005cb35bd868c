using Microsoft.Extensions.Time.Testing;
using Tend.Config;
using Tend.Jobs;
using Tend.Processes;
using Tend.Tests.Support;

namespace Tend.Tests.Jobs;

/// <summary>
/// When a job runs, on a FakeTimeProvider with real processes (docs/jobs.md): forbid skips an
/// overlapping run, replace stops the old one, occurrences missed while the daemon was down are
/// caught up once (or recorded as missed), timeout stops a run, and next runs follow Europe/Berlin
/// across both daylight-saving changes.
/// </summary>
public sealed class JobSchedulerTests : IAsyncLifetime
{
    private readonly string _home = Directory.CreateTempSubdirectory("tend-jobs-").FullName;
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 6, 1, 12, 0, 30, TimeSpan.Zero));
    private readonly List<JobEvent> _events = [];
    private readonly ProcessTarget _target = new();
    private JobScheduler? _scheduler;

    public Task InitializeAsync() => Task.CompletedTask;

    /// <summary>As the daemon does on delete: the app's processes are stopped, then the scheduler, which
    /// waits for its runs to be recorded; only then is the history's directory gone.</summary>
    public async Task DisposeAsync()
    {
        await _target.StopAsync();
        if (_scheduler is not null) await _scheduler.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30));
        await _target.DisposeAsync();
        Directory.Delete(_home, recursive: true);
    }

    private JobScheduler Start(JobSpec spec)
    {
        _scheduler = new JobScheduler("job", spec, _target, JobHistory.Load(_home, "job", spec.History), _time, e => { lock (_events) _events.Add(e); }, _ => TimeSpan.Zero);
        _scheduler.Start();
        return _scheduler;
    }

    /// <summary>Moves the fake clock a step at a time until <paramref name="done"/> (the loop needs a moment to set its next timer).</summary>
    private async Task AdvanceUntilAsync(Func<bool> done, TimeSpan step, string what)
    {
        for (int i = 0; i < 400; i++)
        {
            if (done()) return;
            _time.Advance(step);
            await Task.Delay(25);
        }
        Assert.Fail("timed out waiting for " + what);
    }

    private IReadOnlyList<JobRun> Runs => _scheduler!.Snapshot().Runs;

    [Fact]
    public async Task Forbid_SkipsARunThatWouldOverlap()
    {
        Start(new JobSpec("* * * * *", "UTC"));

        await AdvanceUntilAsync(() => _target.Started == 1, TimeSpan.FromSeconds(10), "the first run");
        Assert.Equal(new DateTimeOffset(2026, 6, 1, 12, 1, 0, TimeSpan.Zero), Runs[0].ScheduledFor);
        await AdvanceUntilAsync(() => Runs.Count == 2, TimeSpan.FromSeconds(10), "the 12:02 occurrence");

        Assert.Equal([JobOutcome.Running, JobOutcome.Skipped], Runs.Select(r => r.Outcome));
        Assert.Contains("concurrency: forbid", Runs[1].Detail);
        Assert.Equal(1, _target.Started);
        Assert.True(_target.IsRunning);
    }

    [Fact]
    public async Task Replace_StopsTheOldRun_ThenStartsTheNew()
    {
        Start(new JobSpec("* * * * *", "UTC") { Concurrency = JobConcurrency.Replace });

        await AdvanceUntilAsync(() => _target.Started == 1, TimeSpan.FromSeconds(10), "the first run");
        int firstPid = _target.Pids[0];
        await AdvanceUntilAsync(() => _target.Started == 2, TimeSpan.FromSeconds(10), "the second run");
        await Eventually.TrueAsync(() => Runs[0].Outcome == JobOutcome.Replaced, "the first run recorded as replaced");

        Assert.False(ProcFs.IsRunning(firstPid), "the replaced run's process still runs");
        Assert.Equal(JobOutcome.Running, Runs[1].Outcome);
    }

    [Fact]
    public async Task Allow_RunsOverlappingRunsSideBySide()
    {
        Start(new JobSpec("* * * * *", "UTC") { Concurrency = JobConcurrency.Allow });

        await AdvanceUntilAsync(() => _target.Started == 2, TimeSpan.FromSeconds(10), "two runs");
        Assert.Equal(2, _target.Running);
        Assert.Equal([JobOutcome.Running, JobOutcome.Running], Runs.Select(r => r.Outcome));
    }

    [Fact]
    public async Task CatchUp_AMissedJobRunsOnce_ForTheLatestOccurrence()
    {
        // The previous daemon last dealt with 09:00; it is 12:00:30 now: 10:00, 11:00 and 12:00 passed unseen.
        JobHistory.Load(_home, "job", 20).SetLastOccurrence(new DateTimeOffset(2026, 6, 1, 9, 0, 0, TimeSpan.Zero));

        Start(new JobSpec("0 * * * *", "UTC") { CatchUp = true });

        await Eventually.TrueAsync(() => _target.Started == 1, "the catch-up run");
        JobRun run = Runs.Single();
        Assert.Equal("catch_up", run.Trigger);
        Assert.Equal(new DateTimeOffset(2026, 6, 1, 12, 0, 0, TimeSpan.Zero), run.ScheduledFor);
        await Task.Delay(300);
        Assert.Equal(1, _target.Started);
    }

    [Fact]
    public async Task WithoutCatchUp_TheMissedRunsAreRecorded_NotRun()
    {
        JobHistory.Load(_home, "job", 20).SetLastOccurrence(new DateTimeOffset(2026, 6, 1, 9, 0, 0, TimeSpan.Zero));

        Start(new JobSpec("0 * * * *", "UTC"));

        JobRun missed = await Eventually.ReturnsAsync(() => Runs, r => r.Count == 1, "the missed record").ContinueWith(t => t.Result.Single());
        Assert.Equal(JobOutcome.Missed, missed.Outcome);
        Assert.Equal("3 runs missed while the daemon was down (catch_up is off)", missed.Detail);
        Assert.Equal(0, _target.Started);
        Assert.Contains(_events, e => e.Run.Outcome == JobOutcome.Missed);
    }

    [Fact]
    public async Task Timeout_StopsTheRun_AndItCountsAsFailed()
    {
        Start(new JobSpec("* * * * *", "UTC") { Timeout = TimeSpan.FromSeconds(30) });

        await AdvanceUntilAsync(() => _target.Started == 1, TimeSpan.FromSeconds(10), "the run");
        int pid = _target.Pids[0];
        await AdvanceUntilAsync(() => Runs[0].Outcome != JobOutcome.Running, TimeSpan.FromSeconds(5), "the timeout");

        Assert.Equal(JobOutcome.TimedOut, Runs[0].Outcome);
        Assert.True(Runs[0].IsFailure);
        Assert.False(ProcFs.IsRunning(pid));
    }

    [Fact]
    public void NextRuns_FollowEuropeBerlin_AcrossBothDaylightSavingChanges()
    {
        var daily3 = new RestartSchedule("0 3 * * *", "Europe/Berlin");
        // 03:00 local: 02:00 UTC in winter (CET), 01:00 UTC in summer (CEST).
        Assert.Equal(new DateTimeOffset(2026, 3, 28, 2, 0, 0, TimeSpan.Zero), Schedules.Next(daily3, new DateTimeOffset(2026, 3, 27, 12, 0, 0, TimeSpan.Zero)));
        Assert.Equal(new DateTimeOffset(2026, 3, 29, 1, 0, 0, TimeSpan.Zero), Schedules.Next(daily3, new DateTimeOffset(2026, 3, 28, 12, 0, 0, TimeSpan.Zero)));
        Assert.Equal(new DateTimeOffset(2026, 10, 25, 2, 0, 0, TimeSpan.Zero), Schedules.Next(daily3, new DateTimeOffset(2026, 10, 24, 12, 0, 0, TimeSpan.Zero)));

        // 02:30 does not exist on 29 March (02:00 → 03:00): that day's run is at 03:00 CEST, once.
        var daily230 = new RestartSchedule("30 2 * * *", "Europe/Berlin");
        Assert.Equal(new DateTimeOffset(2026, 3, 29, 1, 0, 0, TimeSpan.Zero), Schedules.Next(daily230, new DateTimeOffset(2026, 3, 28, 12, 0, 0, TimeSpan.Zero)));
        // 02:30 happens twice on 25 October (03:00 → 02:00): it runs once, at the first.
        DateTimeOffset first = Schedules.Next(daily230, new DateTimeOffset(2026, 10, 24, 12, 0, 0, TimeSpan.Zero))!.Value;
        Assert.Equal(new DateTimeOffset(2026, 10, 25, 0, 30, 0, TimeSpan.Zero), first);
        Assert.Equal(new DateTimeOffset(2026, 10, 26, 1, 30, 0, TimeSpan.Zero), Schedules.Next(daily230, first));
    }

    /// <summary>Runs as real processes (/bin/sleep), spawned by the platform layer; the scheduler under test does the rest.</summary>
    private sealed class ProcessTarget : IJobTarget, IAsyncDisposable
    {
        private readonly Lock _gate = new();
        private readonly List<ChildProcess> _running = [];
        private readonly List<ChildProcess> _all = [];

        public int Started { get { lock (_gate) return _all.Count; } }
        public int Running { get { lock (_gate) return _running.Count; } }
        public List<int> Pids { get { lock (_gate) return [.. _all.Select(c => c.Pid)]; } }
        public bool IsRunning => Running > 0;

        public async Task<JobProcessEnd> RunAsync(bool alongside)
        {
            var env = new Dictionary<string, string> { ["PATH"] = "/usr/bin:/bin" };
            ChildProcess child = ChildProcess.Start(new SpawnRequest("/bin/sleep", ["600"], "/", env) { RedirectOutput = false });
            lock (_gate) { _running.Add(child); _all.Add(child); }
            ExitStatus exit = await child.Exited;
            lock (_gate) _running.Remove(child);
            return new JobProcessEnd(exit.IsSuccess, exit.Code, exit.Signal is int s ? Signals.Name(s) : null, exit.ToString(), []);
        }

        public Task StopAsync()
        {
            List<ChildProcess> running;
            lock (_gate) running = [.. _running];
            return Task.WhenAll(running.Select(c => c.StopAsync(Signals.SIGTERM, TimeSpan.FromSeconds(5))));
        }

        public async ValueTask DisposeAsync()
        {
            List<ChildProcess> all;
            lock (_gate) all = [.. _all];
            foreach (ChildProcess c in all) await c.DisposeAsync();
        }
    }
}
