using Tend.Api;
using Tend.Cli.Rendering;

namespace Tend.Tests.Cli.Rendering;

public sealed class LogLineTextTests
{
    [Fact]
    public void Render_Plain_PrefixesInstanceAndStream()
    {
        Assert.Equal("web#0 out | listening on 3000", LogLineText.Render(new LogLineDto(null, "web", 0, "out", "listening on 3000"), color: false));
        Assert.Equal("web#1 err | boom", LogLineText.Render(new LogLineDto(null, "web", 1, "err", "boom"), color: false));
    }

    [Fact]
    public void Render_Color_PaintsOnlyThePrefix() =>
        Assert.Equal("\u001b[31mweb#1 err |\u001b[0m boom", LogLineText.Render(new LogLineDto(null, "web", 1, "err", "boom"), color: true));

    [Fact]
    public void Render_ToATerminal_EscapesTheAppsControlCharacters_ToAFileKeepsThem()
    {
        var line = new LogLineDto(null, "web", 0, "out", "\u001b]0;owned\u0007\u001b[2Jtab\there\u0000\u009b");
        Assert.Equal("web#0 out | \\x1b]0;owned\\x07\\x1b[2Jtab\there\\x00\\x9b", LogLineText.Render(line, color: false, terminal: true));
        Assert.Equal("web#0 out | " + line.Text, LogLineText.Render(line, color: false, terminal: false));
        Assert.Equal("héllo ✓", Format.Printable("héllo ✓"));
    }
}
