using Tend.Daemon.Commands.Startup;

namespace Tend.Tests.Daemon.Commands;

/// <summary>What `tend startup` refuses as the unit's binary, and how it quotes what it writes.</summary>
public sealed class StartupPlannerTests
{
    [Theory]
    [InlineData("/usr/share/dotnet/sdk/10.0.100/tend", "versioned folder (10.0.100)")]
    [InlineData("/root/.nvm/versions/node/v20.11.0/bin/tend", "nvm")]
    [InlineData("/home/u/.dotnet/tools/.store/tend/0.1.0/tend/0.1.0/tools/net10.0/any/tend", ".NET tool store")]
    [InlineData("/opt/tend-1.2.3/tend", null)]
    [InlineData("/opt/1.2.3/tend", "versioned folder (1.2.3)")]
    [InlineData("/tmp/build/tend", "/tmp")]
    [InlineData("/run/user/0/tend", "/run")]
    [InlineData("relative/tend", "not absolute")]
    [InlineData("/opt/tend/tend", null)]
    [InlineData("/home/u/.dotnet/tools/tend", null)]
    [InlineData("/work/src/Tend.Cli/bin/Release/net10.0/tend", null)]
    public void UnstableBecause_NamesWhatAnUpgradeOrRebootBreaks(string path, string? expected)
    {
        string? why = StartupPlanner.UnstableBecause(path);
        if (expected is null) Assert.Null(why);
        else Assert.Contains(expected, why);
    }

    [Theory]
    [InlineData("/opt/tend/tend", "/opt/tend/tend")]
    [InlineData("/opt/my tend/tend", "\"/opt/my tend/tend\"")]
    [InlineData("HOME=/home/a\"b", "\"HOME=/home/a\\\"b\"")]
    [InlineData("/srv/100%/x", "/srv/100%%/x")]
    public void Quote_EscapesSpecifiersAndQuotesWhatSystemdWouldSplit(string value, string expected) =>
        Assert.Equal(expected, SystemdUnit.Quote(value));

    [Fact]
    public void StopTimeout_IsOverTheAppsKillTimeouts_AndInfiniteWhenOneWaitsForever()
    {
        var notes = new List<string>();
        var web = Tend.Config.ConfigLoader.FromCommand("web", "/bin/true", [], 2, "/", new Dictionary<string, string>()) with { KillTimeout = TimeSpan.FromSeconds(100) };
        var db = web with { Name = "db", KillTimeout = TimeSpan.FromSeconds(40) };
        Assert.Equal(TimeSpan.FromSeconds(100 + 5 + 40 + 5 + 30), StartupPlanner.StopTimeout([web, db], notes));
        Assert.Equal(TimeSpan.FromSeconds(90), StartupPlanner.StopTimeout([], notes));
        Assert.Equal(Timeout.InfiniteTimeSpan, StartupPlanner.StopTimeout([web, db with { KillTimeout = Timeout.InfiniteTimeSpan }], notes));
    }
}
