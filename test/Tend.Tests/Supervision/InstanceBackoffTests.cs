using Microsoft.Extensions.Logging.Abstractions;
using Tend.Config;
using Tend.Supervision;
using Tend.Tests.Support;

namespace Tend.Tests.Supervision;

/// <summary>The run loop on real processes with a fake clock: backoff waits exactly as long as the clock says.</summary>
public sealed class InstanceBackoffTests : IAsyncLifetime
{
    private readonly string _home = Directory.CreateTempSubdirectory("tend-sup-").FullName;
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

    private AppSpec Crasher(int maxRestarts) => new()
    {
        Name = "crasher",
        Command = TestPaths.TestChild,
        Args = new EquatableArray<string>(["--exit-after", "0ms", "--exit-code", "1"]),
        Cwd = _home,
        Env = new EquatableDictionary([new("PATH", "/usr/bin:/bin")]),
        MaxRestarts = maxRestarts,
        MinUptime = TimeSpan.FromSeconds(1),
        Backoff = new BackoffSpec(TimeSpan.FromMinutes(10), TimeSpan.FromHours(1), 2, 0),
    };

    [Fact]
    public async Task Crash_WaitsForTheBackoff_OnTheInjectedClock()
    {
        await _supervisor.StartAsync([Crasher(maxRestarts: 5)], null);

        var waiting = await Eventually.ReturnsAsync(() => _supervisor.List().Single(), i => i.Status == InstanceStatus.Waiting, "crasher waiting");
        Assert.Equal(0, waiting.Restarts);
        Assert.Equal(1, waiting.LastExit?.Code);

        // Real time passes; the fake clock does not: the ten-minute backoff has not elapsed.
        await Task.Delay(300);
        Assert.Equal(InstanceStatus.Waiting, _supervisor.List().Single().Status);
        Assert.Equal(0, _supervisor.List().Single().Restarts);

        _time.Advance(TimeSpan.FromMinutes(10));

        // Second crash: restarted once, and now waits twice as long.
        await Eventually.ReturnsAsync(() => _supervisor.List().Single(), i => i.Restarts == 1 && i.Status == InstanceStatus.Waiting, "second wait");
        _time.Advance(TimeSpan.FromMinutes(19));
        await Task.Delay(300);
        Assert.Equal(1, _supervisor.List().Single().Restarts);
        _time.Advance(TimeSpan.FromMinutes(1));
        await Eventually.ReturnsAsync(() => _supervisor.List().Single(), i => i.Restarts == 2, "third run");
    }

    [Fact]
    public async Task Stop_DuringBackoff_EndsStoppedWithoutAnotherRun()
    {
        await _supervisor.StartAsync([Crasher(maxRestarts: 5)], null);
        await Eventually.ReturnsAsync(() => _supervisor.List().Single(), i => i.Status == InstanceStatus.Waiting, "crasher waiting");

        await _supervisor.StopAsync("crasher").WaitAsync(TimeSpan.FromSeconds(30));

        var stopped = _supervisor.List().Single();
        Assert.Equal(InstanceStatus.Stopped, stopped.Status);
        Assert.Equal(0, stopped.Restarts);
        Assert.Null(stopped.Pid);
    }
}
