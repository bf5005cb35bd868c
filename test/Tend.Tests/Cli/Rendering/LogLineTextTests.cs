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
}
