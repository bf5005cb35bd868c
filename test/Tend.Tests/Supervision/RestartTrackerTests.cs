using Tend.Config;
using Tend.Processes;
using Tend.Supervision;

namespace Tend.Tests.Supervision;

public sealed class RestartTrackerTests
{
    private static readonly ExitStatus Crash = new(1, null);
    private static readonly ExitStatus Clean = new(0, null);
    private static readonly ExitStatus Killed = new(null, 9);

    private static AppSpec Spec(RestartPolicy restart = RestartPolicy.Always, int maxRestarts = 3, int minUptimeMs = 1000,
        BackoffSpec? backoff = null, int[]? stopExitCodes = null, int restartDelayMs = 0) => new()
    {
        Name = "app",
        Command = "/bin/true",
        Args = EquatableArray<string>.Empty,
        Cwd = "/",
        Env = EquatableDictionary.Empty,
        Restart = restart,
        MaxRestarts = maxRestarts,
        MinUptime = TimeSpan.FromMilliseconds(minUptimeMs),
        RestartDelay = TimeSpan.FromMilliseconds(restartDelayMs),
        Backoff = backoff ?? new BackoffSpec(TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(1), 2, 0),
        StopExitCodes = stopExitCodes ?? [],
    };

    [Theory]
    [InlineData(RestartPolicy.Always, 0, null, true)]
    [InlineData(RestartPolicy.Always, 1, null, true)]
    [InlineData(RestartPolicy.OnFailure, 0, null, false)]
    [InlineData(RestartPolicy.OnFailure, 1, null, true)]
    [InlineData(RestartPolicy.OnFailure, null, 9, true)]
    [InlineData(RestartPolicy.OnFailure, 7, null, false)] // 7 is in stop_exit_codes
    [InlineData(RestartPolicy.Never, 1, null, false)]
    [InlineData(RestartPolicy.Never, null, 9, false)]
    public void PolicyRestarts_FollowsPolicyAndStopExitCodes(RestartPolicy policy, int? code, int? signal, bool restarts)
    {
        Assert.Equal(restarts, RestartTracker.PolicyRestarts(Spec(policy, stopExitCodes: [7]), new ExitStatus(code, signal)));
    }

    [Fact]
    public void UnstableRuns_BeyondMaxRestarts_GiveUp()
    {
        var tracker = new RestartTracker();
        var spec = Spec(maxRestarts: 3);
        for (int i = 0; i < 3; i++)
            Assert.IsType<RestartDecision.Restart>(tracker.OnExit(spec, Crash, TimeSpan.FromMilliseconds(10)));

        var last = Assert.IsType<RestartDecision.GiveUp>(tracker.OnExit(spec, Crash, TimeSpan.FromMilliseconds(10)));
        Assert.Equal("crash loop: 4 runs in a row shorter than min_uptime 1s (max_restarts 3); last: exit code 1", last.Reason);
    }

    [Fact]
    public void StableRun_ResetsTheCount_SoALoopIsCaughtWheneverItBegins()
    {
        var tracker = new RestartTracker();
        var spec = Spec(maxRestarts: 2);
        // A day of good health with an occasional crash never gives up...
        for (int i = 0; i < 50; i++)
        {
            Assert.IsType<RestartDecision.Restart>(tracker.OnExit(spec, Crash, TimeSpan.FromMilliseconds(10)));
            Assert.IsType<RestartDecision.Restart>(tracker.OnExit(spec, Crash, TimeSpan.FromHours(1)));
        }
        // ...and a loop that starts late is still caught after max_restarts + 1 unstable runs.
        tracker.OnExit(spec, Crash, TimeSpan.FromMilliseconds(10));
        tracker.OnExit(spec, Crash, TimeSpan.FromMilliseconds(10));
        Assert.IsType<RestartDecision.GiveUp>(tracker.OnExit(spec, Crash, TimeSpan.FromMilliseconds(10)));
    }

    [Fact]
    public void Backoff_GrowsExponentially_IsCapped_AndIsZeroAfterAStableRun()
    {
        var tracker = new RestartTracker();
        var spec = Spec(maxRestarts: 100, restartDelayMs: 5);
        var delays = Enumerable.Range(0, 6)
            .Select(_ => ((RestartDecision.Restart)tracker.OnExit(spec, Killed, TimeSpan.Zero)).Delay.TotalMilliseconds)
            .ToList();
        Assert.Equal([105, 205, 405, 805, 1005, 1005], delays);

        var afterStable = (RestartDecision.Restart)tracker.OnExit(spec, Killed, TimeSpan.FromSeconds(2));
        Assert.Equal(TimeSpan.FromMilliseconds(5), afterStable.Delay);
    }

    [Fact]
    public void Backoff_Jitter_StaysWithinBounds()
    {
        var tracker = new RestartTracker(new Random(42));
        var backoff = new BackoffSpec(TimeSpan.FromMilliseconds(1000), TimeSpan.FromSeconds(10), 2, 0.2);
        var samples = Enumerable.Range(0, 200).Select(_ => tracker.BackoffDelay(backoff, 1).TotalMilliseconds).ToList();
        Assert.All(samples, ms => Assert.InRange(ms, 800, 1200));
        Assert.True(samples.Distinct().Count() > 100, "jitter should spread the delays");
    }

    [Fact]
    public void Stay_OnCleanExit_WithOnFailure_SaysWhy()
    {
        var stay = Assert.IsType<RestartDecision.Stay>(new RestartTracker().OnExit(Spec(RestartPolicy.OnFailure), Clean, TimeSpan.FromSeconds(5)));
        Assert.Equal("exit code 0; restart: on-failure", stay.Reason);
    }

    private static readonly DateTimeOffset T0 = new(2026, 12, 5, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Breaker_MaxFailuresWithinTheWindow_Opens_AndReopeningDoublesTheBreakUpToTheCap()
    {
        var tracker = new RestartTracker();
        var spec = Spec(maxRestarts: 1) with { Breaker = new BreakerSpec(3, TimeSpan.FromMinutes(1), TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(25)) };
        TimeSpan shortRun = TimeSpan.FromMilliseconds(10);

        // The crash-loop give-up (max_restarts 1) no longer applies: the breaker decides.
        Assert.IsType<RestartDecision.Restart>(tracker.OnExit(spec, Crash, shortRun, at: T0));
        Assert.IsType<RestartDecision.Restart>(tracker.OnExit(spec, Crash, shortRun, at: T0.AddSeconds(1)));
        var open = Assert.IsType<RestartDecision.Break>(tracker.OnExit(spec, Crash, shortRun, at: T0.AddSeconds(2)));
        Assert.Equal((TimeSpan.FromSeconds(10), 1), (open.Duration, open.Opens));
        Assert.Equal("3 failures within 1m (max_failures 3); last: exit code 1", open.Reason);

        // The half-open attempt fails: open again, twice as long; then capped.
        tracker.HalfOpen = true;
        var again = Assert.IsType<RestartDecision.Break>(tracker.OnExit(spec, Crash, shortRun, at: T0.AddSeconds(13)));
        Assert.Equal((TimeSpan.FromSeconds(20), 2), (again.Duration, again.Opens));
        Assert.StartsWith("the half-open attempt failed too", again.Reason);
        tracker.HalfOpen = true;
        Assert.Equal(TimeSpan.FromSeconds(25), Assert.IsType<RestartDecision.Break>(tracker.OnExit(spec, Crash, shortRun, at: T0.AddSeconds(34))).Duration);

        // Closed: it starts over from the first break.
        tracker.CloseBreaker();
        for (int i = 0; i < 2; i++) Assert.IsType<RestartDecision.Restart>(tracker.OnExit(spec, Crash, shortRun, at: T0.AddMinutes(5).AddSeconds(i)));
        Assert.Equal(TimeSpan.FromSeconds(10), Assert.IsType<RestartDecision.Break>(tracker.OnExit(spec, Crash, shortRun, at: T0.AddMinutes(5).AddSeconds(3))).Duration);
    }

    [Fact]
    public void Breaker_FailuresSpreadBeyondTheWindow_NeverOpen()
    {
        var tracker = new RestartTracker();
        var spec = Spec() with { Breaker = new BreakerSpec(3, TimeSpan.FromMinutes(1), TimeSpan.FromSeconds(10), TimeSpan.FromMinutes(5)) };
        for (int i = 0; i < 20; i++)
            Assert.IsType<RestartDecision.Restart>(tracker.OnExit(spec, Crash, TimeSpan.FromSeconds(40), at: T0.AddSeconds(40 * i)));
    }

    [Fact]
    public void NoRetry_TheListedCode_StaysStopped_WhateverThePolicy()
    {
        var tracker = new RestartTracker();
        var spec = Spec(RestartPolicy.Always) with { NoRetry = new EquatableArray<int>([78]) };

        var stay = Assert.IsType<RestartDecision.Stay>(tracker.OnExit(spec, new ExitStatus(78, null), TimeSpan.FromSeconds(5)));
        Assert.Equal("exit code 78; exit code 78 is in no_retry: not restarted", stay.Reason);
        Assert.IsType<RestartDecision.Restart>(tracker.OnExit(spec, Crash, TimeSpan.FromSeconds(5)));
    }
}
