using Tend.Config;

namespace Tend.Tests.Config;

public sealed class UnitsTests
{
    [Theory]
    [InlineData("500ms", 500)]
    [InlineData("10s", 10_000)]
    [InlineData("2m", 120_000)]
    [InlineData("1h", 3_600_000)]
    [InlineData("1d", 86_400_000)]
    [InlineData("1.5s", 1_500)]
    [InlineData("0.25s", 250)]
    [InlineData("1m30s", 90_000)]
    [InlineData("1h 2m 3s", 3_723_000)]
    [InlineData("10 S", 10_000)]
    [InlineData("2min", 120_000)]
    [InlineData("1500", 1_500)]
    [InlineData("0", 0)]
    public void TryParseDuration_Accepts(string text, long expectedMs)
    {
        Assert.True(Units.TryParseDuration(text, out TimeSpan value));
        Assert.Equal(TimeSpan.FromMilliseconds(expectedMs), value);
    }

    [Theory]
    [InlineData("")]
    [InlineData("-5s")]
    [InlineData("1.5")]
    [InlineData("10x")]
    [InlineData("s")]
    [InlineData(".5s")]
    [InlineData("5.s")]
    [InlineData("10 seconds")]
    [InlineData("99999999999999999999h")]
    public void TryParseDuration_Rejects(string text)
    {
        Assert.False(Units.TryParseDuration(text, out _));
    }

    [Theory]
    [InlineData("1024", 1024L)]
    [InlineData("100B", 100L)]
    [InlineData("512K", 512L * 1024)]
    [InlineData("512kb", 512L * 1024)]
    [InlineData("512KiB", 512L * 1024)]
    [InlineData("200M", 200L * 1024 * 1024)]
    [InlineData("200 MB", 200L * 1024 * 1024)]
    [InlineData("200MiB", 200L * 1024 * 1024)]
    [InlineData("1G", 1L << 30)]
    [InlineData("1.5G", 3L << 29)]
    [InlineData("2GiB", 2L << 30)]
    [InlineData("1T", 1L << 40)]
    public void TryParseSize_AcceptsBinaryUnits(string text, long expected)
    {
        Assert.True(Units.TryParseSize(text, out long bytes));
        Assert.Equal(expected, bytes);
    }

    [Theory]
    [InlineData("")]
    [InlineData("12X")]
    [InlineData("-1M")]
    [InlineData("M")]
    [InlineData("1 2M")]
    [InlineData("99999999999T")]
    public void TryParseSize_Rejects(string text)
    {
        Assert.False(Units.TryParseSize(text, out _));
    }

    [Theory]
    [InlineData(0, "0s")]
    [InlineData(250, "250ms")]
    [InlineData(1_500, "1.5s")]
    [InlineData(2_000, "2s")]
    [InlineData(120_000, "2m")]
    [InlineData(7_200_000, "2h")]
    public void FormatDuration_Shortest(long ms, string expected)
    {
        Assert.Equal(expected, Units.FormatDuration(TimeSpan.FromMilliseconds(ms)));
    }
}
