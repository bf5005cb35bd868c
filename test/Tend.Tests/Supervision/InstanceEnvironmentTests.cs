using Tend.Config;
using Tend.Supervision;

namespace Tend.Tests.Supervision;

/// <summary>What an instance's process finds in its environment: Tend's variables, and nothing that belongs to someone else.</summary>
public sealed class InstanceEnvironmentTests
{
    private static AppSpec Spec(Dictionary<string, string>? env = null) => new()
    {
        Name = "web",
        Command = "/bin/true",
        Args = EquatableArray<string>.Empty,
        Cwd = "/tmp",
        Env = new EquatableDictionary(env ?? new Dictionary<string, string> { ["PATH"] = "/usr/bin" }),
        Instances = 4,
    };

    private static Func<string?> NoSocket => () => throw new InvalidOperationException("the notify socket was opened for an app that does not use it");

    [Fact]
    public void EveryInstance_KnowsItsAppNumberAndCount_ButNoPortOutsideProxyMode()
    {
        var env = InstanceEnvironment.Build(Spec(), 2, proxyPort: null, NoSocket, hasListenFds: false);

        Assert.Equal("web", env["TEND_APP"]);
        Assert.Equal("2", env["TEND_INSTANCE"]);
        Assert.Equal("4", env["TEND_INSTANCES"]);
        Assert.Equal("/usr/bin", env["PATH"]);
        Assert.False(env.ContainsKey("PORT"));
    }

    [Fact]
    public void IncrementVar_StartsAtItsBasePlusTheNumber_AndProxyModeGivesPort()
    {
        var spec = Spec() with { IncrementVar = new IncrementVar("HTTP_PORT", 8000) };

        var env = InstanceEnvironment.Build(spec, 3, proxyPort: 41234, NoSocket, hasListenFds: false);

        Assert.Equal("8003", env["HTTP_PORT"]);
        Assert.Equal("41234", env["PORT"]);
    }

    [Fact]
    public void InheritedNotifyAndSocketActivation_AreRemoved_WhenNotOurs()
    {
        var inherited = new Dictionary<string, string>
        {
            ["NOTIFY_SOCKET"] = "/run/systemd/notify", ["WATCHDOG_USEC"] = "1", ["WATCHDOG_PID"] = "1",
            ["LISTEN_FDS"] = "2", ["LISTEN_PID"] = "1", ["LISTEN_FDNAMES"] = "a:b",
        };

        var env = InstanceEnvironment.Build(Spec(inherited), 0, null, NoSocket, hasListenFds: false);

        Assert.DoesNotContain(env.Keys, k => k.StartsWith("NOTIFY", StringComparison.Ordinal) || k.StartsWith("WATCHDOG", StringComparison.Ordinal) || k.StartsWith("LISTEN", StringComparison.Ordinal));
    }

    [Fact]
    public void Notify_GetsOurSocket_AndTheWatchdogInMicroseconds()
    {
        var spec = Spec(new Dictionary<string, string> { ["NOTIFY_SOCKET"] = "/elsewhere" }) with
        {
            Ready = new ReadySpec { Notify = true },
            Watchdog = TimeSpan.FromSeconds(2.5),
        };
        int opened = 0;

        var env = InstanceEnvironment.Build(spec, 0, null, () => { opened++; return "/home/tend/notify/7.1"; }, hasListenFds: true);

        Assert.Equal("/home/tend/notify/7.1", env["NOTIFY_SOCKET"]);
        Assert.Equal("2500000", env["WATCHDOG_USEC"]);
        Assert.Equal(1, opened);
    }
}
