namespace Tend.Hosting.Tests;

public sealed class TendEnvironmentTests
{
    private const int OurPid = 4242;

    [Theory]
    [InlineData("200000", null, 100)]
    [InlineData("200000", "4242", 100)]
    [InlineData("10000000", null, 5000)]
    [InlineData("1", null, 1)] // floored at a millisecond: a tiny value must not spin a timer
    public void WatchdogInterval_IsHalfOfWatchdogUsec(string usec, string? pid, int expectedMs)
    {
        var environment = new TendEnvironment("/run/notify", usec, pid);

        Assert.Equal(TimeSpan.FromMilliseconds(expectedMs), environment.WatchdogInterval(OurPid));
    }

    [Theory]
    [InlineData(null, null)]
    [InlineData("", null)]
    [InlineData("0", null)]
    [InlineData("-5", null)]
    [InlineData("ten", null)]
    [InlineData("200000", "1")]       // another process's watchdog (a child inherited the variables)
    [InlineData("200000", "garbage")] // systemd treats an unreadable WATCHDOG_PID as no watchdog
    public void WatchdogInterval_MissingBadOrNotOurs_IsNull(string? usec, string? pid)
    {
        var environment = new TendEnvironment("/run/notify", usec, pid);

        Assert.Null(environment.WatchdogInterval(OurPid));
    }

    [Fact]
    public void WatchdogInterval_WithoutNotifySocket_IsNull()
    {
        Assert.Null(new TendEnvironment(null, "200000").WatchdogInterval(OurPid));
    }
}
