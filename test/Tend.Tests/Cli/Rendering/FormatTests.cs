using Tend.Cli.Rendering;

namespace Tend.Tests.Cli.Rendering;

public sealed class FormatTests
{
    [Theory]
    [InlineData(0, "0s")]
    [InlineData(-5, "0s")]
    [InlineData(999, "0s")]
    [InlineData(12_000, "12s")]
    [InlineData(59_999, "59s")]
    [InlineData(60_000, "1m")]
    [InlineData(5 * 60_000 + 30_000, "5m")]
    [InlineData(3 * 3_600_000L + 59 * 60_000, "3h")]
    [InlineData(24 * 3_600_000L, "1D")]
    [InlineData(2 * 24 * 3_600_000L + 5 * 3_600_000, "2D")]
    public void Uptime_RoundsDownToTheLargestUnit(long ms, string expected) => Assert.Equal(expected, Format.Uptime(ms));

    [Theory]
    [InlineData(0, "0s")]
    [InlineData(250, "250ms")]
    [InlineData(1000, "1s")]
    [InlineData(1500, "1.5s")]
    [InlineData(90_000, "1m30s")]
    [InlineData(3_600_000, "1h")]
    [InlineData(86_400_000 + 7_200_000, "1d2h")]
    public void Duration_IsExact(long ms, string expected) => Assert.Equal(expected, Format.Duration(ms));

    [Theory]
    [InlineData(0, "0b")]
    [InlineData(512, "512b")]
    [InlineData(1024, "1.0kb")]
    [InlineData(12_595, "12.3kb")]
    [InlineData(12_897_484, "12.3mb")]
    [InlineData(1_288_490_189, "1.2gb")]
    public void Memory_UsesBinaryUnitsWithOneDecimal(long bytes, string expected) => Assert.Equal(expected, Format.Memory(bytes));

    [Theory]
    [InlineData(0.0, "0%")]
    [InlineData(12.5, "12.5%")]
    [InlineData(12.54, "12.5%")]
    [InlineData(100.0, "100%")]
    [InlineData(-1.0, "0%")]
    [InlineData(double.NaN, "0%")]
    public void Cpu_ShowsAtMostOneDecimal(double percent, string expected) => Assert.Equal(expected, Format.Cpu(percent));

    [Fact]
    public void CommandLine_QuotesOnlyWordsThatNeedIt() =>
        Assert.Equal("node app.js --title 'hello world' 'it'\\''s' ''", Format.CommandLine("node", ["app.js", "--title", "hello world", "it's", ""]));

    [Fact]
    public void Timestamp_IsShownInTheGivenZone() =>
        Assert.Equal("2025-03-04 05:06:07", Format.Timestamp(new DateTimeOffset(2025, 3, 4, 6, 6, 7, TimeSpan.FromHours(1)), TimeZoneInfo.Utc));
}
