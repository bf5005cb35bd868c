using Tend.Cli.Monit;

namespace Tend.Tests.Cli.Monit;

public sealed class SparklineTests
{
    [Fact]
    public void Render_ScalesToThePeak_NewestOnTheRight_BlankWhereNoSampleYet()
    {
        Assert.Equal("   ▁▅█", Sparkline.Render([0, 50, 100], 6, floor: 5));
    }

    [Fact]
    public void Render_AllBelowTheFloor_StaysLow()
    {
        // 1% against a 5% floor: idle noise is not blown up to full height.
        Assert.Equal("▁▂▂", Sparkline.Render([0, 1, 1], 3, floor: 5));
    }

    [Fact]
    public void Render_MoreSamplesThanWidth_ShowsTheNewest()
    {
        Assert.Equal("▁█", Sparkline.Render([100, 100, 0, 10], 2, floor: 1));
    }

    [Fact]
    public void Render_NaNAndNegative_CountAsZero_AndZeroWidthIsEmpty()
    {
        Assert.Equal("▁▁█", Sparkline.Render([double.NaN, -3, 8], 3, floor: 1));
        Assert.Equal("", Sparkline.Render([1, 2], 0, floor: 1));
    }
}
