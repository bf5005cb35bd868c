using Tend.Cli;

namespace Tend.Tests.Cli;

public sealed class DaemonLauncherTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("tend-cli-launcher-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void ReadTail_ShortFile_ReturnsTheLastLines()
    {
        string log = Path.Combine(_dir, "daemon.log");
        File.WriteAllText(log, "one\ntwo\nthree\nfour\n");

        Assert.Equal(["three", "four"], DaemonLauncher.ReadTail(log, 2));
    }

    [Fact]
    public void ReadTail_LargeFile_DropsTheLineCutBySeeking()
    {
        string log = Path.Combine(_dir, "daemon.log");
        File.WriteAllLines(log, Enumerable.Range(0, 5000).Select(i => $"line {i}"));

        IReadOnlyList<string> tail = DaemonLauncher.ReadTail(log, 1000);

        Assert.Equal("line 4999", tail[^1]);
        Assert.All(tail, l => Assert.StartsWith("line ", l));
    }

    [Fact]
    public void ReadTail_MissingFile_SaysSo() =>
        Assert.Equal(["(no daemon.log)"], DaemonLauncher.ReadTail(Path.Combine(_dir, "daemon.log"), 5));
}
