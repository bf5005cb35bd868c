using System.Net.Sockets;
using Tend.Security;
using Tend.Tests.Support;

namespace Tend.Tests.Security;

/// <summary>
/// A TEND_HOME another user can write to is refused (the attack: symlinks and a fake tend.sock
/// planted by nobody made a root daemon and CLI write to and talk to places they did not own).
/// </summary>
public sealed class HomeTrustTests : IAsyncLifetime
{
    private readonly TendHome _home = new();

    public Task InitializeAsync() => Task.CompletedTask;
    public async Task DisposeAsync() => await _home.DisposeAsync();

    private const int Nobody = 65534;

    [Fact]
    public void Problem_OwnClosedHomeUnderTmp_IsTrusted() => Assert.Null(HomeTrust.Problem(_home.Dir));

    [Fact]
    public async Task WorldWritableHome_RefusedByCliDaemonAndRun_NothingWrittenInIt()
    {
        string home = Path.Combine(_home.Dir, "shared");
        Directory.CreateDirectory(home);
        File.SetUnixFileMode(home, (UnixFileMode)0x1FF); // 0777, as a careless pre-created home
        var env = new Dictionary<string, string> { ["TEND_HOME"] = home };

        CliResult list = await _home.RunAsync(["list"], env);
        Assert.Equal(2, list.ExitCode);
        Assert.Contains("writable by other users", list.Stderr);
        Assert.Contains($"chmod 700 {home}", list.Stderr);

        string config = _home.WriteConfig("apps:\n  hi: { run: echo hi, restart: never }\n");
        CliResult run = await _home.RunAsync(["run", config], env);
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("writable by other users", run.Stderr);

        Assert.Empty(Directory.EnumerateFileSystemEntries(home));
        Assert.Null(_home.DaemonPid);
    }

    [Fact]
    public async Task HomeOwnedByAnotherUser_Refused()
    {
        string home = Path.Combine(_home.Dir, "theirs");
        Directory.CreateDirectory(home, (UnixFileMode)0x1C0);
        File.SetUnixFileMode(home, (UnixFileMode)0x1C0);
        Chown(home, Nobody);

        CliResult r = await _home.RunAsync(["ping"], new Dictionary<string, string> { ["TEND_HOME"] = home });
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("is owned by nobody", r.Stderr);
    }

    [Fact]
    public void Problem_GroupWritable_OnlyWhenTheGroupIsTheOwnersPrivateGroup()
    {
        string home = Path.Combine(_home.Dir, "upg");
        Directory.CreateDirectory(home);
        File.SetUnixFileMode(home, (UnixFileMode)0x1F8); // 0770
        ChownGroup(home, "root");    // root's own group, no other member: a user private group
        Assert.Null(HomeTrust.Problem(home));
        ChownGroup(home, "nogroup"); // a group other users may be in
        Assert.Contains("writable by other users", HomeTrust.Problem(home));
    }

    private static void ChownGroup(string path, string group)
    {
        using var p = System.Diagnostics.Process.Start("chgrp", [group, path])!;
        p.WaitForExit();
        Assert.Equal(0, p.ExitCode);
    }

    [Fact]
    public void Problem_ParentWritableByOthersWithoutStickyBit_Refused()
    {
        string parent = Path.Combine(_home.Dir, "open");
        string home = Path.Combine(parent, "home");
        Directory.CreateDirectory(home, (UnixFileMode)0x1C0);
        File.SetUnixFileMode(parent, (UnixFileMode)0x1FF);
        Assert.Contains("above TEND_HOME", HomeTrust.Problem(home));
        File.SetUnixFileMode(parent, (UnixFileMode)0x3FF); // 1777: sticky, like /tmp
        Assert.Null(HomeTrust.Problem(home));
    }

    [Fact]
    public async Task SocketOwnedByAnotherUser_CliSendsNothing()
    {
        // A listening socket where the daemon's would be, owned by nobody: a stranger's "daemon".
        string socketPath = Path.Combine(_home.Dir, "tend.sock");
        using var fake = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        fake.Bind(new UnixDomainSocketEndPoint(socketPath));
        fake.Listen(8);
        Chown(socketPath, Nobody);

        CliResult r = await _home.RunAsync(["start", "--name", "x", "--", "sleep", "60"], new Dictionary<string, string> { ["AWS_SECRET_ACCESS_KEY"] = "hunter2" });
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("tend.sock is owned by nobody", r.Stderr);
        fake.Blocking = false;
        Assert.Throws<SocketException>(() => fake.Accept()); // nobody connected: nothing was sent
    }

    [Fact]
    public async Task LogPathThatIsASymlink_IsNotFollowed_NeitherByWritesNorByFlush()
    {
        string victim = Path.Combine(_home.Dir, "victim.txt");
        File.WriteAllText(victim, "precious\n");
        string outFile = Path.Combine(_home.Dir, "app.out.log");
        File.CreateSymbolicLink(outFile, victim);
        string config = _home.WriteConfig($"""
            apps:
              app:
                run: sh -c 'echo written; exec sleep 600'
                logs: {"{"} out_file: {outFile} {"}"}
            """);
        await _home.OkAsync("start", config);
        await Eventually.ReturnsAsync(() => _home.DescribeAsync("app"), a => a.Instances.Single().DroppedLines > 0, "the line dropped, not written through the link");
        await _home.OkAsync("stop", "app");
        await _home.OkAsync("flush", "app");
        Assert.Equal("precious\n", File.ReadAllText(victim));
    }

    private static void Chown(string path, int uid)
    {
        using var p = System.Diagnostics.Process.Start("chown", [uid.ToString(), path])!;
        p.WaitForExit();
        Assert.Equal(0, p.ExitCode);
    }
}
