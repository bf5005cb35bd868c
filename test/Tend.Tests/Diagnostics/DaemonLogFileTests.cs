using System.Text;
using Tend.Diagnostics;

namespace Tend.Tests.Diagnostics;

public sealed class DaemonLogFileTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("tend-daemonlog-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static byte[] Line(int i) => Encoding.UTF8.GetBytes($"{{\"n\":{i},\"pad\":\"{new string('x', 80)}\"}}\n");

    [Fact]
    public void Write_PastMaxBytes_RotatesOnLineBoundaries_KeepingNFiles()
    {
        string path = Path.Combine(_dir, "daemon.log");
        using (var log = DaemonLogFile.Open(path, maxBytes: 1000, keep: 2))
        {
            for (int i = 0; i < 100; i++) log.Write(Line(i));
        }
        Assert.True(new FileInfo(path).Length <= 1000);
        Assert.True(File.Exists(path + ".1"));
        Assert.True(File.Exists(path + ".2"));
        Assert.False(File.Exists(path + ".3"));
        // Every file holds whole lines only, and the newest line is in the live file.
        foreach (string f in new[] { path, path + ".1", path + ".2" })
            Assert.All(File.ReadAllLines(f), l => Assert.StartsWith("{\"n\":", l));
        Assert.Contains("\"n\":99,", File.ReadAllLines(path)[^1]);
    }

    [Fact]
    public void Write_DiskFull_CountsDroppedLines_NeverThrows()
    {
        // /dev/full answers every write with ENOSPC, as a full filesystem does.
        using var log = DaemonLogFile.Open("/dev/full");
        for (int i = 0; i < 5; i++) log.Write(Line(i));
        Assert.Equal(5, log.DroppedLines);
    }

    [Fact]
    public void Open_Symlink_IsNotFollowed()
    {
        string target = Path.Combine(_dir, "target");
        File.WriteAllText(target, "keep\n");
        string link = Path.Combine(_dir, "daemon.log");
        File.CreateSymbolicLink(link, target);
        Assert.ThrowsAny<IOException>(() => DaemonLogFile.Open(link));
        Assert.Equal("keep\n", File.ReadAllText(target));
    }
}
