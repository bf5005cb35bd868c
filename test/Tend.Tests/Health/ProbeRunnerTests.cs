using Tend.Config;
using Tend.Health;
using Tend.Tests.Support;

namespace Tend.Tests.Health;

/// <summary>
/// The runner on a fake clock with a scripted probe. The loop runs on its own; the test moves the clock
/// and then waits until the loop has recorded the expected number of checks and is parked in its next
/// delay (one pending timer), so every assertion sees a settled state and <see cref="TimerWatchingClock.NextDue"/>
/// is the delay the loop chose.
/// </summary>
public sealed class ProbeRunnerTests : IAsyncLifetime
{
    private static readonly TimeSpan s_bound = TimeSpan.FromSeconds(30);
    private static readonly ProbeResult s_ok = new(true, TimeSpan.Zero, "ok");
    private static readonly ProbeResult s_bad = new(false, TimeSpan.Zero, "bad");

    private readonly TimerWatchingClock _time = new();
    private readonly List<bool> _flips = [];
    private readonly List<ProbeRunner> _senders = [];
    private ProbeRunner? _runner;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_runner is not null) await _runner.DisposeAsync().AsTask().WaitAsync(s_bound);
    }

    private static ProbeSpec Spec(int failureThreshold = 3, int successThreshold = 1, TimeSpan? initialDelay = null) => new()
    {
        Kind = ProbeKind.Http,
        Target = "http://fake/",
        Interval = TimeSpan.FromSeconds(10),
        Timeout = TimeSpan.FromSeconds(1),
        InitialDelay = initialDelay ?? TimeSpan.Zero,
        FailureThreshold = failureThreshold,
        SuccessThreshold = successThreshold,
    };

    private ProbeRunner Start(ProbeSpec spec, ScriptedProbe probe, bool initiallyPassing, bool fast = false)
    {
        _runner = new ProbeRunner(spec, probe, _time, initiallyPassing, (runner, passing) =>
        {
            lock (_flips)
            {
                _flips.Add(passing);
                _senders.Add(runner);
            }
        })
        { FastUntilFirstPass = fast };
        _runner.Start();
        return _runner;
    }

    private List<bool> Flips { get { lock (_flips) return [.. _flips]; } }

    /// <summary>Waits until <paramref name="checks"/> checks are recorded and the loop sits in its next delay.</summary>
    private Task SettledAsync(int checks) =>
        Eventually.TrueAsync(() => _runner!.Checks == checks && _time.PendingTimers == 1,
            $"{checks} checks and the loop waiting (checks {_runner!.Checks}, timers {_time.PendingTimers})", s_bound);

    private async Task NextCheckAsync(int checks)
    {
        _time.Advance(_time.NextDue ?? throw new InvalidOperationException("the loop is not waiting"));
        await SettledAsync(checks);
    }

    [Fact]
    public async Task Runner_FailureThreshold3_FlipsAfterExactlyThreeFailures()
    {
        var runner = Start(Spec(failureThreshold: 3), ScriptedProbe.Always(s_bad), initiallyPassing: true);

        await SettledAsync(1);
        Assert.True(runner.Passing);
        await NextCheckAsync(2);
        Assert.True(runner.Passing);
        Assert.Empty(Flips);

        await NextCheckAsync(3);
        Assert.False(runner.Passing);
        Assert.Equal([false], Flips);

        await NextCheckAsync(4);
        Assert.Equal([false], Flips);
        Assert.Equal(4, runner.ConsecutiveFailures);
        Assert.Equal(4, runner.Failures);
        Assert.Equal("bad", runner.Last?.Detail);
        Assert.Equal(_time.GetUtcNow(), runner.LastAt);
    }

    [Fact]
    public async Task Runner_SuccessThreshold2_NeedsTwoInARow()
    {
        var probe = ScriptedProbe.Sequence(s_ok, s_bad, s_ok, s_ok, s_ok);
        var runner = Start(Spec(successThreshold: 2), probe, initiallyPassing: false);

        await SettledAsync(1);
        Assert.Equal(1, runner.ConsecutiveSuccesses);
        await NextCheckAsync(2);
        Assert.Equal(0, runner.ConsecutiveSuccesses);
        await NextCheckAsync(3);
        Assert.False(runner.Passing);
        Assert.Empty(Flips);

        await NextCheckAsync(4);
        Assert.True(runner.Passing);
        Assert.Equal([true], Flips);
        await NextCheckAsync(5);
        Assert.Equal([true], Flips);
        Assert.Equal(1, runner.Failures);
    }

    [Fact]
    public async Task Runner_Recent_KeepsEachCheckWithItsClockTime()
    {
        var probe = ScriptedProbe.Sequence(s_ok, s_bad, s_ok);
        var runner = Start(Spec(), probe, initiallyPassing: true);

        await SettledAsync(1);
        DateTimeOffset first = _time.GetUtcNow();
        await NextCheckAsync(2);
        await NextCheckAsync(3);

        ProbeCheckEntry[] recent = runner.Recent();
        Assert.Equal([true, false, true], recent.Select(e => e.Success));
        Assert.Equal(["ok", "bad", "ok"], recent.Select(e => e.Detail)); // each differs from the one before
        Assert.Equal([first, first + Spec().Interval, first + 2 * Spec().Interval], recent.Select(e => e.At));
    }

    [Fact]
    public async Task Runner_Callback_OnlyOnFlips()
    {
        var probe = ScriptedProbe.Sequence(s_ok, s_ok, s_bad, s_bad, s_ok, s_ok);
        var runner = Start(Spec(failureThreshold: 1), probe, initiallyPassing: true);

        await SettledAsync(1);
        for (int i = 2; i <= 6; i++) await NextCheckAsync(i);

        Assert.Equal([false, true], Flips);
        lock (_flips) Assert.All(_senders, sender => Assert.Same(runner, sender));
        Assert.True(runner.Passing);
    }

    [Fact]
    public async Task Runner_InitialDelay_HoldsTheFirstCheck()
    {
        var probe = ScriptedProbe.Always(s_ok);
        var runner = Start(Spec(initialDelay: TimeSpan.FromSeconds(30)), probe, initiallyPassing: false);

        await SettledAsync(0);
        Assert.Equal(TimeSpan.FromSeconds(30), _time.NextDue);
        _time.Advance(TimeSpan.FromSeconds(29));
        Assert.Equal(TimeSpan.FromSeconds(1), _time.NextDue);
        Assert.Equal(0, probe.Calls);

        _time.Advance(TimeSpan.FromSeconds(1));
        await SettledAsync(1);
        Assert.True(runner.Passing);
        Assert.Equal(TimeSpan.FromSeconds(10), _time.NextDue);
    }

    [Fact]
    public async Task Runner_FastUntilFirstPass_ChecksEveryHalfSecondUntilPassing()
    {
        var probe = ScriptedProbe.Sequence(s_bad, s_bad, s_ok, s_bad, s_bad, s_bad);
        var runner = Start(Spec(), probe, initiallyPassing: false, fast: true);

        await SettledAsync(1);
        Assert.Equal(ProbeRunner.FastInterval, _time.NextDue);
        await NextCheckAsync(2);
        Assert.Equal(ProbeRunner.FastInterval, _time.NextDue);
        await NextCheckAsync(3);
        Assert.True(runner.Passing);

        // Passed once: the configured interval from now on, even after it fails again.
        Assert.Equal(TimeSpan.FromSeconds(10), _time.NextDue);
        for (int i = 4; i <= 6; i++) await NextCheckAsync(i);
        Assert.False(runner.Passing);
        Assert.Equal(TimeSpan.FromSeconds(10), _time.NextDue);
    }

    [Fact]
    public async Task Runner_WithoutFastUntilFirstPass_UsesTheInterval()
    {
        Start(Spec(), ScriptedProbe.Always(s_bad), initiallyPassing: false);

        await SettledAsync(1);

        Assert.Equal(TimeSpan.FromSeconds(10), _time.NextDue);
    }

    [Fact]
    public async Task Runner_ProbeIgnoringItsTimeout_CountsAsFailureAndIsNotRunTwice()
    {
        var hung = new TaskCompletionSource<ProbeResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        var probe = new ScriptedProbe(call => call == 1 ? (_ => hung.Task) : (_ => Task.FromResult(s_ok)));
        var runner = Start(Spec(), probe, initiallyPassing: false);

        // Inside the check: its deadline and the runner's give-up timer.
        await Eventually.TrueAsync(() => probe.Calls == 1 && _time.PendingTimers == 2, "first check running", s_bound);
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(0, runner.Checks);
        _time.Advance(ProbeRunner.AbandonGrace);
        await SettledAsync(1);
        Assert.Equal((false, "timed out after 1s"), (runner.Last?.Success, runner.Last?.Detail));
        // The period runs from the start of the check: 10s - 1s timeout - grace.
        Assert.Equal(TimeSpan.FromSeconds(10) - TimeSpan.FromSeconds(1) - ProbeRunner.AbandonGrace, _time.NextDue);

        // Still hung: the next check does not start a second one beside it.
        await NextCheckAsync(2);
        Assert.Equal(1, probe.Calls);
        Assert.Equal("previous check still running", runner.Last?.Detail);

        hung.SetResult(s_ok);
        await Eventually.TrueAsync(() => hung.Task.IsCompleted, "hung check released", s_bound);
        await NextCheckAsync(3);
        Assert.Equal(2, probe.Calls);
        Assert.True(runner.Passing);
    }

    [Fact]
    public async Task Runner_ProbeHonouringCancellation_TimesOutAtTheTimeout()
    {
        var probe = new ScriptedProbe(_ => async ct =>
        {
            await Task.Delay(Timeout.InfiniteTimeSpan, ct);
            return s_ok;
        });
        var runner = Start(Spec(), probe, initiallyPassing: true);

        await Eventually.TrueAsync(() => probe.Calls == 1 && _time.PendingTimers == 2, "first check running", s_bound);
        _time.Advance(TimeSpan.FromSeconds(1));
        await SettledAsync(1);

        Assert.Equal("timed out after 1s", runner.Last?.Detail);
        Assert.Equal(TimeSpan.FromSeconds(9), _time.NextDue);
    }

    [Fact]
    public async Task Runner_ProbeThrows_CountsAsFailureWithTheMessage()
    {
        var probe = new ScriptedProbe(call => call == 1
            ? (_ => throw new InvalidOperationException("boom"))
            : (_ => Task.FromException<ProbeResult>(new IOException("disk on fire"))));
        var runner = Start(Spec(failureThreshold: 2), probe, initiallyPassing: true);

        await SettledAsync(1);
        Assert.Equal("boom", runner.Last?.Detail);
        await NextCheckAsync(2);
        Assert.Equal("disk on fire", runner.Last?.Detail);
        Assert.Equal([false], Flips);
    }

    [Fact]
    public async Task Runner_Dispose_StopsChecksAndDisposesTheProbe()
    {
        var probe = ScriptedProbe.Always(s_bad);
        var runner = Start(Spec(failureThreshold: 1), probe, initiallyPassing: false);
        await SettledAsync(1);

        await runner.DisposeAsync().AsTask().WaitAsync(s_bound);

        Assert.Equal(0, _time.PendingTimers);
        Assert.True(probe.Disposed);
        _time.Advance(TimeSpan.FromHours(1));
        Assert.Equal(1, probe.Calls);
        Assert.Equal(1, runner.Checks);
    }

    [Fact]
    public async Task Runner_DisposeDuringAHungCheck_Returns()
    {
        var probe = new ScriptedProbe(_ => _ => new TaskCompletionSource<ProbeResult>().Task);
        var runner = Start(Spec(failureThreshold: 1), probe, initiallyPassing: true);
        await Eventually.TrueAsync(() => probe.Calls == 1, "check running", s_bound);

        await runner.DisposeAsync().AsTask().WaitAsync(s_bound);

        Assert.True(probe.Disposed);
        Assert.Equal(0, runner.Checks);
        Assert.Empty(Flips);
    }

    [Fact]
    public async Task Runner_CallbackThatThrows_DoesNotStopTheLoop()
    {
        var probe = ScriptedProbe.Sequence(s_bad, s_ok, s_bad);
        int calls = 0;
        _runner = new ProbeRunner(Spec(failureThreshold: 1), probe, _time, true, (_, _) =>
        {
            Interlocked.Increment(ref calls);
            throw new InvalidOperationException("handler bug");
        });
        _runner.Start();

        await SettledAsync(1);
        await NextCheckAsync(2);
        await NextCheckAsync(3);

        Assert.Equal(3, Volatile.Read(ref calls));
    }

    [Fact]
    public void Runner_StartTwice_Throws()
    {
        var runner = Start(Spec(), ScriptedProbe.Always(s_ok), initiallyPassing: false);

        Assert.Throws<InvalidOperationException>(runner.Start);
    }

    /// <summary>A probe whose n-th check (from 1) does what the script says; after a sequence runs out,
    /// the last result repeats.</summary>
    private sealed class ScriptedProbe(Func<int, Func<CancellationToken, Task<ProbeResult>>> script) : IProbe
    {
        private int _calls;
        private int _disposed;

        public int Calls => Volatile.Read(ref _calls);
        public bool Disposed => Volatile.Read(ref _disposed) != 0;

        public static ScriptedProbe Always(ProbeResult result) => new(_ => _ => Task.FromResult(result));

        public static ScriptedProbe Sequence(params ProbeResult[] results) =>
            new(call => _ => Task.FromResult(results[Math.Min(call, results.Length) - 1]));

        public Task<ProbeResult> CheckAsync(CancellationToken ct) => script(Interlocked.Increment(ref _calls))(ct);

        public ValueTask DisposeAsync()
        {
            Interlocked.Exchange(ref _disposed, 1);
            return ValueTask.CompletedTask;
        }
    }
}
