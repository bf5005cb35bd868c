using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Tend.Daemon;

namespace Tend.Tests.Daemon;

/// <summary>When the daemon gives memory back: once per quiet spell, never while requests come.</summary>
public sealed class QuietTrimTests
{
    private static readonly TimeSpan Quiet = TimeSpan.FromSeconds(20);

    [Fact]
    public void TrimsOnce_AQuietSpellAfterTheLastActivity()
    {
        var time = new FakeTimeProvider();
        using var trim = new QuietTrim(Quiet, time, NullLogger.Instance);
        trim.Activity();
        time.Advance(TimeSpan.FromSeconds(19));
        Assert.Equal(0, trim.Trims);

        trim.Activity(); // at 19 s: the spell starts again
        time.Advance(TimeSpan.FromSeconds(19)); // 38 s: the first timer (20 s) found activity 1 s old
        Assert.Equal(0, trim.Trims);
        time.Advance(TimeSpan.FromSeconds(1)); // 39 s: 20 s since the last activity
        Assert.Equal(1, trim.Trims);

        time.Advance(TimeSpan.FromMinutes(10));
        Assert.Equal(1, trim.Trims); // nothing happened, nothing to give back again
    }

    [Fact]
    public void TheNextActivity_ArmsItAgain()
    {
        var time = new FakeTimeProvider();
        using var trim = new QuietTrim(Quiet, time, NullLogger.Instance);
        Assert.Equal(0, trim.Trims);
        time.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(0, trim.Trims); // not armed before the first activity

        for (int spell = 1; spell <= 3; spell++)
        {
            for (int i = 0; i < 100; i++) trim.Activity();
            time.Advance(Quiet);
            Assert.Equal(spell, trim.Trims);
        }
    }

    [Theory]
    [InlineData(null, 32.0)]
    [InlineData("", 32.0)]
    [InlineData("2.5", 2.5)]
    [InlineData("0", null)]
    public void TheQuietSpell_ComesFromTheEnvironment(string? value, double? seconds)
    {
        TimeSpan? quiet = QuietTrim.QuietFromEnvironment(name => name == "TEND_TRIM_AFTER_S" ? value : null, out string? problem);
        Assert.Null(problem);
        Assert.Equal(seconds, quiet?.TotalSeconds);
    }

    [Theory]
    [InlineData("soon")]
    [InlineData("-1")]
    [InlineData("NaN")]
    [InlineData("1e9")]
    public void ABadValue_IsNamed_AndTheDefaultKept(string value)
    {
        TimeSpan? quiet = QuietTrim.QuietFromEnvironment(_ => value, out string? problem);
        Assert.Equal(QuietTrim.DefaultQuiet, quiet);
        Assert.NotNull(problem);
        Assert.Contains("TEND_TRIM_AFTER_S", problem);
        Assert.Contains(value, problem);
    }
}
