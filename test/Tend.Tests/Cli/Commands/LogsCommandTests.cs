using Tend.Cli.Commands;

namespace Tend.Tests.Cli.Commands;

/// <summary>The query `tend logs` sends; what the daemon does with it is covered end to end in Integration/CliTests.</summary>
public sealed class LogsCommandTests
{
    [Theory]
    [InlineData(false, false, "both")]
    [InlineData(true, true, "both")]
    [InlineData(true, false, "err")]
    [InlineData(false, true, "out")]
    public void BuildPath_StreamFlags(bool err, bool @out, string stream) =>
        Assert.Equal($"/v1/logs?target=web%231&lines=5&follow=false&stream={stream}", LogsCommand.BuildPath("web#1", 5, false, err, @out));
}
