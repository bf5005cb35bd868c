using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Tend.Audit;

namespace Tend.Tests.Audit;

/// <summary>The hash chain of audit.log on real files: what verify accepts, and every kind of tampering it names.</summary>
public sealed class AuditTrailTests : IDisposable
{
    private readonly string _home = Directory.CreateTempSubdirectory("tend-audit-").FullName;
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 5, 10, 0, 0, TimeSpan.Zero));

    public void Dispose() => Directory.Delete(_home, recursive: true);

    private static AuditActor Alice => new(ActorKind.User, 1001, 1001, 4242, "alice", "/usr/local/bin/tend");

    private string LogPath => Path.Combine(_home, AuditTrail.FileName);

    private AuditTrail Written(int count, long rotateBytes = AuditTrail.DefaultRotateBytes)
    {
        var trail = AuditTrail.Open(_home, _time, NullLogger.Instance, rotateBytes);
        for (int i = 0; i < count; i++)
        {
            trail.Append(new AuditEntry(i % 3 == 0 ? AuditActor.System : Alice, i % 2 == 0 ? "restart" : "stop", $"web#{i % 2}", "ok", $"record {i + 1}"));
            _time.Advance(TimeSpan.FromSeconds(1));
        }
        return trail;
    }

    [Fact]
    public void Untouched_Verifies_AndReadsBackWhoDidWhat()
    {
        using AuditTrail trail = Written(6);
        AuditVerification v = trail.Verify(trail.LastSeq);
        Assert.True(v.Ok, string.Join("\n", v.Problems));
        Assert.Equal((6L, 1L, 6L), (v.Records, v.FirstSeq!.Value, v.LastSeq!.Value));

        IReadOnlyList<AuditRecord> records = trail.Read();
        Assert.Equal(Enumerable.Range(1, 6).Select(i => (long)i), records.Select(r => r.Seq));
        AuditRecord second = records[1];
        Assert.Equal((ActorKind.User, 1001u, 4242, "alice"), (second.Actor.Kind, second.Actor.Uid!.Value, second.Actor.Pid!.Value, second.Actor.User));
        Assert.Equal(("stop", "web#1", "ok"), (second.Action, second.Target, second.Outcome));
        Assert.Equal(records[0].Hash, second.Prev);
        Assert.Equal(ActorKind.System, records[0].Actor.Kind);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(LogPath));
        Assert.Equal(3, trail.Read(since: records[3].Time).Count);
        Assert.Equal(3, trail.Read(app: "web").Count(r => r.Target == "web#1"));
    }

    [Fact]
    public void OneByteFlipped_FailsNamingTheRecord()
    {
        using AuditTrail trail = Written(5);
        byte[] bytes = File.ReadAllBytes(LogPath);
        string[] lines = File.ReadAllLines(LogPath);
        // In record 3's target: "web#0" becomes "web#1".
        int offset = lines.Take(2).Sum(l => l.Length + 1) + lines[2].IndexOf("web#0", StringComparison.Ordinal) + 4;
        bytes[offset] = (byte)'1';
        File.WriteAllBytes(LogPath, bytes);

        AuditVerification v = trail.Verify(trail.LastSeq);
        Assert.False(v.Ok);
        Assert.Contains(v.Problems, p => p.StartsWith("audit.log line 3 (seq 3): its content does not match its hash", StringComparison.Ordinal));
    }

    [Fact]
    public void OneLineRemoved_FailsNamingTheGap()
    {
        using AuditTrail trail = Written(5);
        var lines = File.ReadAllLines(LogPath).ToList();
        lines.RemoveAt(1);
        File.WriteAllLines(LogPath, lines);

        AuditVerification v = trail.Verify(trail.LastSeq);
        Assert.False(v.Ok);
        Assert.Contains("audit.log line 2 (seq 3): records 2–2 are missing (removed)", v.Problems);
    }

    [Fact]
    public void LastLineRemoved_IsFoundAgainstWhatTheDaemonWrote()
    {
        using AuditTrail trail = Written(4);
        var lines = File.ReadAllLines(LogPath).ToList();
        File.WriteAllLines(LogPath, lines.Take(3));

        Assert.True(trail.Verify().Ok); // the file alone cannot tell
        AuditVerification v = trail.Verify(trail.LastSeq);
        Assert.False(v.Ok);
        Assert.Contains("the daemon has written records up to seq 4, and the log ends at seq 3 (the last records were removed)", v.Problems);
    }

    [Fact]
    public void ARecordRewrittenWithAFreshHash_BreaksTheNextOnesLink()
    {
        using AuditTrail trail = Written(4);
        var lines = File.ReadAllLines(LogPath).ToList();
        // A careful forger recomputes record 2's own hash after editing it; record 3 still names the old one.
        string edited = lines[1].Replace("\"outcome\":\"ok\"", "\"outcome\":\"failed\"", StringComparison.Ordinal);
        int at = edited.LastIndexOf(",\"hash\":\"", StringComparison.Ordinal);
        string hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(edited[..at])));
        lines[1] = edited[..at] + ",\"hash\":\"" + hash + "\"}";
        File.WriteAllLines(LogPath, lines);

        AuditVerification v = trail.Verify(trail.LastSeq);
        Assert.False(v.Ok);
        Assert.Contains("audit.log line 3 (seq 3): the record before it is not the one it was chained to (edited, removed or replaced)", v.Problems);
    }

    [Fact]
    public void Rotation_KeepsTheChainVerifiableAcrossFiles_AndReopeningContinuesIt()
    {
        using (AuditTrail trail = Written(40, rotateBytes: 2048))
        {
            Assert.True(File.Exists(LogPath + ".1"));
            AuditVerification v = trail.Verify(trail.LastSeq);
            Assert.True(v.Ok, string.Join("\n", v.Problems));
            Assert.True(v.Records > 10, $"{v.Records} records kept");
            Assert.Equal(40, v.LastSeq);
            Assert.True(trail.Files().Count() is > 1 and <= AuditTrail.KeptFiles + 1);
        }
        using AuditTrail reopened = AuditTrail.Open(_home, _time, NullLogger.Instance, 2048);
        Assert.Equal(41, reopened.Append(new AuditEntry(Alice, "save", null, "ok"))!.Seq);
        Assert.True(reopened.Verify(reopened.LastSeq).Ok);

        // Across the rotation boundary too: the oldest kept file's records are checked like the rest.
        string oldest = reopened.Files().First();
        var lines = File.ReadAllLines(oldest).ToList();
        lines.RemoveAt(lines.Count - 1);
        File.WriteAllLines(oldest, lines);
        AuditVerification broken = reopened.Verify(reopened.LastSeq);
        Assert.False(broken.Ok);
        Assert.Contains(broken.Problems, p => p.Contains("are missing (removed)", StringComparison.Ordinal));
    }

    [Fact]
    public void Secrets_AreMaskedInTargetAndDetail()
    {
        using AuditTrail trail = AuditTrail.Open(_home, _time, NullLogger.Instance);
        trail.Append(new AuditEntry(Alice, "start", "db", "ok", "config postgres://app:hunter2@localhost/db"));
        Assert.DoesNotContain("hunter2", File.ReadAllText(LogPath));
    }
}
