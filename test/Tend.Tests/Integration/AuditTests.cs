using System.Diagnostics;
using System.Text.Json;
using Tend.Api;
using Tend.Isolation;
using Tend.Tests.Support;

namespace Tend.Tests.Integration;

/// <summary>
/// Operators and the audit trail (docs/audit.md), with real users: a daemon whose socket is opened to a
/// group, two members acting through it as themselves, and audit.log naming each of them, checked by
/// `tend audit verify` until one byte is flipped or one line removed.
/// </summary>
[Collection(nameof(AuditUsersCollection))]
public sealed class AuditTests : IAsyncLifetime
{
    private const string Group = "tendops";
    private static readonly string[] s_operators = ["tendop1", "tendop2"];
    private readonly TendHome _home = new();

    public async Task InitializeAsync()
    {
        await Tool("groupadd", "-f", Group);
        foreach (string user in s_operators)
            if (UserAccounts.FindUser(user) is null) await Tool("useradd", "-M", "-N", "-g", Group, "-s", "/usr/sbin/nologin", user);
    }

    public async Task DisposeAsync()
    {
        await _home.DisposeAsync();
        foreach (string user in s_operators) await Tool("userdel", user);
        await Tool("groupdel", Group);
    }

    private static async Task<int> Tool(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        await p.WaitForExitAsync();
        return p.ExitCode;
    }

    /// <summary>`tend ARGS` as <paramref name="user"/> (setpriv: its uid, its groups), against this home's daemon.</summary>
    private async Task<CliResult> AsUserAsync(string user, params string[] args)
    {
        UserAccount account = UserAccounts.FindUser(user)!;
        var psi = new ProcessStartInfo(HostSupport.FindTool("setpriv")!)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = "/",
        };
        foreach (string a in new[] { $"--reuid={account.Uid}", $"--regid={account.Gid}", "--init-groups", "--", TestPaths.Cli }.Concat(args)) psi.ArgumentList.Add(a);
        psi.Environment["TEND_HOME"] = _home.Dir;
        psi.Environment["HOME"] = "/nonexistent";
        psi.Environment["NO_COLOR"] = "1";
        using var p = Process.Start(psi)!;
        Task<string> stdout = p.StandardOutput.ReadToEndAsync(), stderr = p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        return new CliResult(p.ExitCode, await stdout, await stderr);
    }

    [Fact]
    public async Task TwoOperators_ThroughAGroupSocket_AreRecordedAsThemselves_AndVerifyFindsAFlippedByteAndARemovedLine()
    {
        string config = _home.WriteConfig($"""
            apps:
              web:
                cmd: {TendHome.Child}
                args: [--sleep]
            """);
        CliResult started = await _home.RunAsync(["start", config], new Dictionary<string, string> { ["TEND_SOCKET_GROUP"] = Group });
        Assert.True(started.ExitCode == 0, started.ToString());
        await _home.WaitForAsync(l => l.Any(i => i.Status == "online"), "web online");
        string socket = Path.Combine(_home.Dir, ApiRoutes.SocketFileName);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite, File.GetUnixFileMode(socket));

        CliResult first = await AsUserAsync("tendop1", "restart", "web");
        Assert.True(first.ExitCode == 0, first.ToString());
        CliResult second = await AsUserAsync("tendop2", "stop", "web");
        Assert.True(second.ExitCode == 0, second.ToString());
        // Not in the group: the socket's mode keeps them out, and nothing is recorded for them.
        CliResult outsider = await AsUserAsync("nobody", "start", "web");
        Assert.NotEqual(0, outsider.ExitCode);

        CliResult json = await _home.OkAsync("audit", "--json");
        AuditRecordDto[] records = JsonSerializer.Deserialize(json.Stdout, TendJsonContext.Default.AuditRecordDtoArray)!;
        AuditRecordDto restart = records.Single(r => r.Action == "restart");
        AuditRecordDto stop = records.Single(r => r.Action == "stop");
        Assert.Equal(("user", "tendop1", UserAccounts.FindUser("tendop1")!.Uid, "web", "ok"), (restart.Actor.Kind, restart.Actor.User, restart.Actor.Uid!.Value, restart.Target, restart.Outcome));
        Assert.Equal(("user", "tendop2", UserAccounts.FindUser("tendop2")!.Uid, "web"), (stop.Actor.Kind, stop.Actor.User, stop.Actor.Uid!.Value, stop.Target));
        Assert.Equal(TestPaths.Cli, restart.Actor.Exe);
        Assert.DoesNotContain(records, r => r.Actor.User == "nobody");
        Assert.Equal("root", records.Single(r => r.Action == "start").Actor.User);

        // The operators read the trail too, through the daemon (the file itself is 0600 root).
        CliResult asOperator = await AsUserAsync("tendop2", "audit", "--app", "web");
        Assert.True(asOperator.ExitCode == 0, asOperator.ToString());
        Assert.Contains("tendop1 (uid", asOperator.Stdout);
        Assert.Contains("restart web  ok", asOperator.Stdout);

        Assert.Contains("ok: ", (await _home.OkAsync("audit", "verify")).Stdout);

        string log = Path.Combine(_home.Dir, "audit.log");
        string[] lines = File.ReadAllLines(log);
        int restartLine = Array.FindIndex(lines, l => l.Contains("\"action\":\"restart\"", StringComparison.Ordinal)) + 1;
        byte[] original = File.ReadAllBytes(log);
        byte[] flipped = (byte[])original.Clone();
        int at = lines.Take(restartLine - 1).Sum(l => l.Length + 1) + lines[restartLine - 1].IndexOf("tendop1", StringComparison.Ordinal) + 6;
        flipped[at] = (byte)'2';
        File.WriteAllBytes(log, flipped);
        CliResult edited = await _home.RunAsync("audit", "verify");
        Assert.Equal(1, edited.ExitCode);
        Assert.Contains($"audit.log line {restartLine} (seq {restart.Seq}): its content does not match its hash", edited.Stderr);

        File.WriteAllLines(log, lines.Where((_, i) => i != restartLine - 1));
        CliResult removed = await _home.RunAsync("audit", "verify");
        Assert.Equal(1, removed.ExitCode);
        Assert.Contains($"records {restart.Seq}–{restart.Seq} are missing (removed)", removed.Stderr);
    }
}

[CollectionDefinition(nameof(AuditUsersCollection), DisableParallelization = true)]
public sealed class AuditUsersCollection;
