using Microsoft.Extensions.Logging.Abstractions;
using Tend.Config;
using Tend.Supervision;
using Tend.Tests.Support;

namespace Tend.Tests.Supervision;

/// <summary>
/// How often the daemon reads /proc, on a fake clock with real processes: every second while somebody
/// looks or a max_memory limit needs it, every IdleInterval otherwise, and at once when a reader finds
/// the figures stale.
/// </summary>
public sealed class ResourceSamplerTests : IAsyncLifetime
{
    private readonly string _home = Directory.CreateTempSubdirectory("tend-sampler-").FullName;
    private readonly FakeTimeProvider _time = new();
    private Supervisor _supervisor = null!;

    public Task InitializeAsync()
    {
        _supervisor = new Supervisor(_home, _time, NullLoggerFactory.Instance, persist: false);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _supervisor.ShutdownAsync().WaitAsync(TimeSpan.FromSeconds(30));
        await _supervisor.DisposeAsync();
        Directory.Delete(_home, recursive: true);
    }

    private AppSpec Sleeper(long? maxMemory = null) => new()
    {
        Name = "sleeper",
        Command = TestPaths.TestChild,
        Args = new EquatableArray<string>(["--sleep"]),
        Cwd = _home,
        Env = new EquatableDictionary([new("PATH", "/usr/bin:/bin")]),
        MaxMemoryBytes = maxMemory,
    };

    private async Task StartedAsync(AppSpec spec)
    {
        await _supervisor.StartAsync([spec], null);
        await Eventually.ReturnsAsync(() => _supervisor.Apps.Single().Instances.Single().Snapshot(), i => i.Status == InstanceStatus.Online, "sleeper online");
    }

    /// <summary>Moves the clock a second at a time, giving the sampling loop a moment after each tick.</summary>
    private async Task TickAsync(int seconds)
    {
        for (int i = 0; i < seconds; i++)
        {
            _time.Advance(ResourceSampler.Interval);
            await Task.Delay(100);
        }
    }

    [Fact]
    public async Task List_SamplesFirst_WhenTheLoopHasNotRunYet()
    {
        await StartedAsync(Sleeper());
        // Online means spawned; the runtime may still be loading, with nothing resident charged to
        // its cgroup yet. Wait until it has memory of its own (the real clock), then list.
        int pid = _supervisor.Apps.Single().Instances.Single().Snapshot().Pid!.Value;
        await Eventually.TrueAsync(() => ProcFs.ReadRssBytes(pid) > 8 * 1024 * 1024, "the child's runtime loaded");
        long before = _supervisor.Sampler.Passes;

        // The fake clock has not moved, so the loop has not ticked: the figures come from List itself.
        var row = _supervisor.List().Single();

        Assert.True(row.MemoryBytes > 0, $"memory {row.MemoryBytes}");
        Assert.Equal(before + 1, _supervisor.Sampler.Passes);
    }

    [Fact]
    public async Task List_SamplesFirst_OnlyWhenAProcessStartedSinceTheLastPass()
    {
        await StartedAsync(Sleeper());
        _supervisor.Sampler.SampleOnce();
        long sampled = _supervisor.Sampler.Passes;
        _supervisor.List();
        Assert.Equal(sampled, _supervisor.Sampler.Passes);

        await _supervisor.StartAsync([Sleeper() with { Name = "late" }], null);
        await Eventually.ReturnsAsync(() => _supervisor.Apps.Single(a => a.Name == "late").Instances.Single().Snapshot(), i => i.Status == InstanceStatus.Online, "late online");
        _supervisor.List();

        Assert.Equal(sampled + 1, _supervisor.Sampler.Passes);
    }

    [Fact]
    public async Task Nobody_Looking_SamplesEveryIdleInterval()
    {
        await StartedAsync(Sleeper());
        _supervisor.Sampler.SampleOnce();
        long first = _supervisor.Sampler.Passes;

        int idleSeconds = (int)ResourceSampler.IdleInterval.TotalSeconds;
        await TickAsync(idleSeconds - 1);
        Assert.Equal(first, _supervisor.Sampler.Passes);

        await TickAsync(1);
        await Eventually.ReturnsAsync(() => _supervisor.Sampler.Passes, p => p == first + 1, "the idle pass");
    }

    [Fact]
    public async Task IdlePasses_LeaveNoHolesInTheHistory()
    {
        await StartedAsync(Sleeper());
        _supervisor.Sampler.SampleOnce();
        long first = _supervisor.Sampler.Passes;

        await TickAsync((int)ResourceSampler.IdleInterval.TotalSeconds);
        await Eventually.ReturnsAsync(() => _supervisor.Sampler.Passes, p => p == first + 1, "the idle pass");

        IReadOnlyList<ResourceSample> points = _supervisor.Apps.Single().History.Snapshot();
        int expected = (int)(ResourceSampler.IdleInterval / ResourceHistory.Resolution);
        Assert.True(points.Count >= expected, $"{points.Count} points for {ResourceSampler.IdleInterval} of history");
        Assert.True(points.Zip(points.Skip(1)).All(p => p.Second.Time - p.First.Time == ResourceHistory.Resolution),
            "a hole: " + string.Join(", ", points.Select(p => p.Time.ToString("HH:mm:ss"))));
    }

    [Fact]
    public async Task AfterAList_SamplesEverySecond_UntilTheWatchWindowEnds()
    {
        await StartedAsync(Sleeper());
        _supervisor.List();
        long first = _supervisor.Sampler.Passes;

        await TickAsync(3);
        await Eventually.ReturnsAsync(() => _supervisor.Sampler.Passes, p => p == first + 3, "a pass a second");

        // Past the watch window, back to the idle pace.
        await TickAsync((int)ResourceSampler.WatchWindow.TotalSeconds);
        long settled = _supervisor.Sampler.Passes;
        _supervisor.Sampler.SampleOnce();
        await TickAsync(2);
        Assert.Equal(settled + 1, _supervisor.Sampler.Passes);
    }

    [Fact]
    public async Task MaxMemory_KeepsSamplingEverySecond()
    {
        await StartedAsync(Sleeper(maxMemory: 1L << 40));
        _supervisor.Sampler.SampleOnce();
        long first = _supervisor.Sampler.Passes;

        // One second at a time, each pass awaited before the next: two advances in a row could land
        // before the loop re-armed its timer, and a periodic timer coalesces missed ticks.
        for (int second = 1; second <= 2; second++)
        {
            _time.Advance(ResourceSampler.Interval);
            await Eventually.ReturnsAsync(() => _supervisor.Sampler.Passes, p => p >= first + second, $"pass {second}, a second after the last");
        }
        await Task.Delay(200);
        Assert.Equal(first + 2, _supervisor.Sampler.Passes);
    }
}
