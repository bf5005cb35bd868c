using Microsoft.Extensions.Logging.Abstractions;
using Tend.Processes;
using Tend.Runtime;
using Tend.Tests.Support;
using static Tend.Tests.Processes.ProcessTestSupport;

namespace Tend.Tests.Runtime;

/// <summary>Real EventPipe sessions with real .NET children (testchild), and a real non-.NET one.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class DotnetCounterSamplerTests
{
    private static readonly TimeSpan s_limit = TimeSpan.FromSeconds(60);

    // A one-second interval keeps the tests short; the daemon's default is five.
    private static DotnetCounterWatcher Watcher(int maxSessions = 4) => new(
        new DotnetCounterOptions
        {
            Interval = TimeSpan.FromSeconds(1),
            MaxSessions = maxSessions,
            LookAfter = [TimeSpan.Zero, TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(300), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(3)],
            RetryAfter = TimeSpan.FromMilliseconds(200),
        },
        TimeProvider.System, NullLogger.Instance);

    private sealed class Snapshots
    {
        private readonly Lock _gate = new();
        private readonly List<DotnetCounters> _all = [];
        public void Add(DotnetCounters c) { lock (_gate) _all.Add(c); }
        public DotnetCounters? Last { get { lock (_gate) return _all.Count == 0 ? null : _all[^1]; } }
        public int Count { get { lock (_gate) return _all.Count; } }
    }

    [Fact]
    public async Task Watch_BusyDotnetChild_PublishesPlausibleCountersThatGrow()
    {
        await using var child = ChildProcess.Start(TestChild("--churn", "--sleep"));
        var watcher = Watcher();
        var seen = new Snapshots();
        DotnetCounterSampler sampler = watcher.Watch("churn#0", child.Pid, child.StartTime, seen.Add);
        try
        {
            DotnetCounters? first = await Eventually.ReturnsAsync(() => seen.Last, c => c is { GcHeapBytes: > 0, ThreadPoolThreads: >= 0, WorkingSetBytes: > 0 }, "a first sample", s_limit);
            Assert.NotNull(first);
            Assert.NotNull(sampler.Socket);
            Assert.Equal(1, watcher.ActiveSessions);

            DotnetCounters later = await Eventually.ReturnsAsync(() => seen.Last!,
                c => c.Gen0Collections > first.Gen0Collections && c.Exceptions > first.Exceptions
                    && c.AllocatedBytes > first.AllocatedBytes && c.LockContentions > 0 && c.SampledAt > first.SampledAt,
                "collections, exceptions, allocations and contentions to grow", s_limit);
            Assert.True(later.AllocationRateBytesPerSecond > 0);
            Assert.InRange(later.TimeInGcPercent, 0, 100);
        }
        finally
        {
            await sampler.DisposeAsync().AsTask().WaitAsync(s_limit);
        }

        // Stopping the session leaves the app as it was: still running, and it exits normally when asked.
        Assert.True(sampler.Completion.IsCompleted);
        Assert.Equal(0, watcher.ActiveSessions);
        Assert.False(child.Exited.IsCompleted);
        ExitStatus exit = await child.StopAsync(Signals.SIGTERM, TimeSpan.FromSeconds(10));
        Assert.NotEqual(Signals.SIGKILL, exit.Signal);
    }

    [Fact]
    public async Task Watch_NonDotnetChild_IsSkippedAfterTheLooks()
    {
        await using var child = ChildProcess.Start(Command("/bin/sleep", "60"));
        var watcher = Watcher();
        var seen = new Snapshots();
        await using DotnetCounterSampler sampler = watcher.Watch("sleep#0", child.Pid, child.StartTime, seen.Add);

        await sampler.Completion.WaitAsync(s_limit);

        Assert.Null(sampler.Socket);
        Assert.Equal(0, seen.Count);
        Assert.Equal(0, watcher.ActiveSessions);
        Assert.False(child.Exited.IsCompleted);
        await child.StopAsync(Signals.SIGTERM, TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task Watch_ChildExits_SessionEndsByItself()
    {
        await using var child = ChildProcess.Start(TestChild("--sleep"));
        var watcher = Watcher();
        var seen = new Snapshots();
        await using DotnetCounterSampler sampler = watcher.Watch("short#0", child.Pid, child.StartTime, seen.Add);
        await Eventually.ReturnsAsync(() => seen.Count, n => n > 0, "a first sample", s_limit);

        await child.StopAsync(Signals.SIGTERM, TimeSpan.FromSeconds(10));

        // The stream ends with the process and its socket is gone: nothing left to retry.
        await sampler.Completion.WaitAsync(s_limit);
        Assert.Equal(0, watcher.ActiveSessions);
    }

    [Fact]
    public async Task Watch_MoreChildrenThanSessions_TheNextWaitsForAFreeSlot()
    {
        await using var one = ChildProcess.Start(TestChild("--sleep"));
        await using var two = ChildProcess.Start(TestChild("--sleep"));
        var watcher = Watcher(maxSessions: 1);
        var first = new Snapshots();
        var second = new Snapshots();
        DotnetCounterSampler a = watcher.Watch("one#0", one.Pid, one.StartTime, first.Add);
        await Eventually.ReturnsAsync(() => first.Count, n => n > 0, "the first child's sample", s_limit);
        await using DotnetCounterSampler b = watcher.Watch("two#0", two.Pid, two.StartTime, second.Add);
        await Eventually.ReturnsAsync(() => b.Socket, s => s is not null, "the second child's socket", s_limit);
        // Not a timing claim: while a holds the only slot, b cannot have had a session at all.
        Assert.Equal(1, watcher.ActiveSessions);
        Assert.Equal(0, second.Count);

        await a.DisposeAsync().AsTask().WaitAsync(s_limit);

        await Eventually.ReturnsAsync(() => second.Count, n => n > 0, "the second child's sample once the slot is free", s_limit);
        await one.StopAsync(Signals.SIGTERM, TimeSpan.FromSeconds(10));
        await two.StopAsync(Signals.SIGTERM, TimeSpan.FromSeconds(10));
    }
}
