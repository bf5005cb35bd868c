using Tend.Supervision;
using Tend.Tests.Support;

namespace Tend.Tests.Supervision;

public sealed class RestartIntensityTests
{
    private readonly FakeTimeProvider _time = new();

    [Fact]
    public void TryRecord_MoreThanMaxWithinThePeriod_GivesUp()
    {
        var intensity = new RestartIntensity(3, TimeSpan.FromSeconds(10), _time);

        Assert.True(intensity.TryRecord());
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.True(intensity.TryRecord());
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.True(intensity.TryRecord());
        _time.Advance(TimeSpan.FromSeconds(1));

        Assert.False(intensity.TryRecord());
        Assert.Equal(3, intensity.Total);
    }

    [Fact]
    public void TryRecord_SlidingWindowNeverExceeded_KeepsRestarting()
    {
        var intensity = new RestartIntensity(2, TimeSpan.FromSeconds(10), _time);

        // Two restarts every 10.5 s: each window of 10 s holds at most two.
        for (int i = 0; i < 50; i++)
        {
            Assert.True(intensity.TryRecord(), $"restart {i}");
            _time.Advance(TimeSpan.FromSeconds(5.25));
        }
        Assert.Equal(50, intensity.Total);
    }

    [Fact]
    public void TryRecord_SlidingNotFixedWindow_BurstAcrossABoundaryGivesUp()
    {
        var intensity = new RestartIntensity(2, TimeSpan.FromSeconds(10), _time);

        _time.Advance(TimeSpan.FromSeconds(9));
        Assert.True(intensity.TryRecord());
        Assert.True(intensity.TryRecord());
        _time.Advance(TimeSpan.FromSeconds(2)); // a fixed 0-10 s window would have been reset here

        Assert.False(intensity.TryRecord());
    }

    [Fact]
    public void TryRecord_IntensityZero_GivesUpOnTheFirstRestart()
    {
        var intensity = new RestartIntensity(0, TimeSpan.FromSeconds(5), _time);

        Assert.False(intensity.TryRecord());
        Assert.Equal(0, intensity.Total);
    }

    [Fact]
    public void Clear_ForgetsTheHistory()
    {
        var intensity = new RestartIntensity(1, TimeSpan.FromMinutes(1), _time);
        Assert.True(intensity.TryRecord());

        intensity.Clear();

        Assert.True(intensity.TryRecord());
        Assert.Equal(2, intensity.Total);
    }
}
