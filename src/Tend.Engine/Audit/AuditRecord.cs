namespace Tend.Audit;

/// <summary>Who acted: a user over the control socket, a bearer token over TCP, or Tend itself.</summary>
public enum ActorKind { User, Token, System }

/// <summary>
/// Who did it. Over the unix socket: the kernel's word (SO_PEERCRED) on the caller's uid, gid and pid,
/// the user's name and the executable. Over TCP: the token's id (a hash, never the token) and the peer
/// address. For the daemon's own actions (automatic restarts, supervisor escalations, memory limits):
/// the system.
/// </summary>
public sealed record AuditActor(ActorKind Kind, uint? Uid = null, uint? Gid = null, int? Pid = null, string? User = null,
    string? Executable = null, string? TokenId = null, string? Peer = null)
{
    public static AuditActor System { get; } = new(ActorKind.System);

    public override string ToString() => Kind switch
    {
        ActorKind.User => $"{User ?? "uid " + Uid}(uid {Uid}, pid {Pid}{(Executable is null ? "" : ", " + Executable)})",
        ActorKind.Token => $"token {TokenId} from {Peer}",
        _ => "tend",
    };
}

/// <summary>What happened, before the trail numbers and chains it.</summary>
/// <param name="Action">start, stop, restart, reload, deploy, scale, delete, signal, save, flush, reset, kill, resurrect, upgrade; or the engine's event for a system action.</param>
/// <param name="Outcome">"ok", or "failed: …" / "refused: …" with the answer's reason.</param>
public sealed record AuditEntry(AuditActor Actor, string Action, string? Target, string Outcome, string? Detail = null);

/// <summary>One line of audit.log: the entry, its number, its time, and the chain (the hash of the record before, its own hash).</summary>
public sealed record AuditRecord(long Seq, DateTimeOffset Time, AuditActor Actor, string Action, string? Target, string Outcome, string? Detail, string Prev, string Hash);

/// <summary>What `tend audit verify` found: every record checked, and the first break in the chain if any, named by file, line and seq.</summary>
public sealed record AuditVerification(bool Ok, long Records, long? FirstSeq, long? LastSeq, IReadOnlyList<string> Problems);
