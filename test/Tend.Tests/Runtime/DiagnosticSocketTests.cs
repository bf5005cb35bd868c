using System.Text;
using Tend.Processes;
using Tend.Runtime;
using Tend.Tests.Support;
using static Tend.Tests.Processes.ProcessTestSupport;

namespace Tend.Tests.Runtime;

[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class DiagnosticSocketTests
{
    [Fact]
    public void TempDirectoryFrom_Environ_TakesTmpdirElseTmp()
    {
        Assert.Equal("/var/tmp/app", DiagnosticSocket.TempDirectoryFrom(Encoding.UTF8.GetBytes("PATH=/bin\0TMPDIR=/var/tmp/app\0HOME=/root\0")));
        Assert.Equal("/x", DiagnosticSocket.TempDirectoryFrom(Encoding.UTF8.GetBytes("TMPDIR=/x")));
        Assert.Equal("/tmp", DiagnosticSocket.TempDirectoryFrom(Encoding.UTF8.GetBytes("PATH=/bin\0MYTMPDIR=/nope\0")));
        Assert.Equal("/tmp", DiagnosticSocket.TempDirectoryFrom(Encoding.UTF8.GetBytes("TMPDIR=\0")));
        Assert.Equal("/tmp", DiagnosticSocket.TempDirectoryFrom([]));
    }

    [Fact]
    public async Task Find_DotnetChild_FindsItsSocketKeyedByStartTime()
    {
        await using var child = ChildProcess.Start(TestChild("--sleep"));

        string? socket = await Eventually.ReturnsAsync(() => DiagnosticSocket.Find(child.Pid, child.StartTime), s => s is not null, "the runtime's diagnostic socket");

        Assert.Equal(Path.Combine("/tmp", $"dotnet-diagnostic-{child.Pid}-{child.StartTime}-socket"), socket);
        await child.StopAsync(Signals.SIGTERM, TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task Find_ChildWithItsOwnTmpdir_LooksThere()
    {
        string tmp = Directory.CreateTempSubdirectory("tend-tmpdir-").FullName;
        try
        {
            var env = new Dictionary<string, string>(BaseEnvironment()) { ["TMPDIR"] = tmp };
            await using var child = ChildProcess.Start(new SpawnRequest(TestChildPath, ["--sleep"], Path.GetTempPath(), env));

            string? socket = await Eventually.ReturnsAsync(() => DiagnosticSocket.Find(child.Pid, child.StartTime), s => s is not null, "the socket in the child's TMPDIR");

            Assert.Equal(tmp, Path.GetDirectoryName(socket));
            await child.StopAsync(Signals.SIGTERM, TimeSpan.FromSeconds(10));
        }
        finally
        {
            Directory.Delete(tmp, recursive: true);
        }
    }

    [Fact]
    public async Task Find_NonDotnetChild_HasNone()
    {
        await using var child = ChildProcess.Start(Command("/bin/sleep", "30"));

        Assert.Null(DiagnosticSocket.Find(child.Pid, child.StartTime));
        await child.StopAsync(Signals.SIGTERM, TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task Find_DiagnosticsDisabled_HasNone()
    {
        var env = new Dictionary<string, string>(BaseEnvironment()) { ["DOTNET_EnableDiagnostics"] = "0" };
        await using var child = ChildProcess.Start(new SpawnRequest(TestChildPath, ["--echo", "up", "--sleep"], Path.GetTempPath(), env));
        // Once it prints, the runtime is past the point where it would have made the socket.
        Assert.Equal("up", await ReadLineAsync(child.StandardOutput));

        Assert.Null(DiagnosticSocket.Find(child.Pid, child.StartTime));
        await child.StopAsync(Signals.SIGTERM, TimeSpan.FromSeconds(10));
    }
}
