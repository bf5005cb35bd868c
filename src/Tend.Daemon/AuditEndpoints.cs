using System.Globalization;
using Tend.Api;
using Tend.Audit;

namespace Tend.Daemon;

/// <summary>GET /v1/audit and /v1/audit/verify: the trail through the daemon, so an operator in socket_group reads it without reading the 0600 file.</summary>
internal static class AuditEndpoints
{
    public static void MapAudit(this WebApplication app)
    {
        app.MapGet(ApiRoutes.Audit, (string? since, string? app, AuditRecorder audit) =>
        {
            DateTimeOffset? from = null;
            if (since is { Length: > 0 })
            {
                if (!DateTimeOffset.TryParse(since, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out DateTimeOffset parsed))
                    throw new BadRequestException($"since: \"{since}\" is not a time (ISO 8601, e.g. 2026-12-05T10:00:00Z)");
                from = parsed;
            }
            AuditRecordDto[] records = [.. audit.Trail.Read(from, app).Select(ToWire)];
            return Results.Json(records, TendJsonContext.Default.AuditRecordDtoArray);
        });

        app.MapGet(ApiRoutes.AuditVerify, (AuditRecorder audit) =>
        {
            AuditVerification v = audit.Trail.Verify(audit.Trail.LastSeq);
            return Results.Json(new AuditVerifyResult(v.Ok, v.Records, v.FirstSeq, v.LastSeq, v.Problems, [.. audit.Trail.Files()]),
                TendJsonContext.Default.AuditVerifyResult);
        });
    }

    private static AuditRecordDto ToWire(AuditRecord r) => new(r.Seq, r.Time,
        new AuditActorDto(r.Actor.Kind.ToString().ToLowerInvariant(), r.Actor.Uid, r.Actor.Gid, r.Actor.Pid, r.Actor.User, r.Actor.Executable, r.Actor.TokenId, r.Actor.Peer),
        r.Action, r.Target, r.Outcome, r.Detail, r.Hash);
}
