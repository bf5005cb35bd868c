using Tend.Runtime;

namespace Tend.Tests.Runtime;

public sealed class DotnetCounterOptionsTests
{
    private static Func<string, string?> Env(params (string Name, string Value)[] vars) =>
        name => vars.FirstOrDefault(v => v.Name == name).Value;

    [Fact]
    public void FromEnvironment_Nothing_IsTheDefaults()
    {
        DotnetCounterOptions? options = DotnetCounterOptions.FromEnvironment(Env());

        Assert.Equal(new DotnetCounterOptions(), options);
        Assert.Equal(TimeSpan.FromSeconds(5), options!.Interval);
        Assert.Equal(64, options.MaxSessions);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("false")]
    [InlineData("off")]
    public void FromEnvironment_TurnedOff_IsNull(string value) =>
        Assert.Null(DotnetCounterOptions.FromEnvironment(Env(("TEND_DOTNET_COUNTERS", value))));

    [Fact]
    public void FromEnvironment_IntervalAndMax_Override_BadValuesAreIgnored()
    {
        DotnetCounterOptions? set = DotnetCounterOptions.FromEnvironment(Env(("TEND_DOTNET_COUNTERS_INTERVAL", "1"), ("TEND_DOTNET_COUNTERS_MAX", "3")));
        DotnetCounterOptions? bad = DotnetCounterOptions.FromEnvironment(Env(("TEND_DOTNET_COUNTERS_INTERVAL", "0"), ("TEND_DOTNET_COUNTERS_MAX", "many")));

        Assert.Equal(TimeSpan.FromSeconds(1), set!.Interval);
        Assert.Equal(3, set.MaxSessions);
        Assert.Equal(new DotnetCounterOptions(), bad);
    }
}
