using Tend.Cli.Monit;

namespace Tend.Tests.Cli.Monit;

public sealed class CellTextTests
{
    [Theory]
    [InlineData("plain", "plain")]
    [InlineData("\u001b[31mred\u001b[0m text", "red text")]
    [InlineData("title\u001b]0;evil\u0007 after", "title after")]
    [InlineData("a\tb", "a   b")]
    [InlineData("cr\rbell\u0007del\u007f", "crbelldel")]
    public void Clean_DropsEscapesAndControls(string raw, string clean) =>
        Assert.Equal(clean, CellText.Clean(raw));

    [Fact]
    public void Fit_CutsToTheWidthWithAnEllipsis_CountingWideCharactersAsTwo()
    {
        Assert.Equal("short", CellText.Fit("short", 10));
        Assert.Equal("worker-wi…", CellText.Fit("worker-with-a-long-name", 10));
        Assert.Equal("日本…", CellText.Fit("日本語のログ", 5));
        Assert.Equal(5, CellText.Width(CellText.Fit("日本語のログ", 5)));
        Assert.Equal("", CellText.Fit("anything", 0));
    }
}
