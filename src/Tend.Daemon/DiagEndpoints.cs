using System.Text.Json;
using Tend.Api;
using Tend.Diag;
using Tend.Runtime;

namespace Tend.Daemon;

/// <summary>/v1/diag: on-demand collections and the artifacts on disk (docs/alerts.md#diagnostics).</summary>
internal static class DiagEndpoints
{
    public static void MapDiag(this WebApplication app)
    {
        app.MapPost(ApiRoutes.Diag, async (HttpRequest request, DiagCollector diag, CancellationToken ct) =>
        {
            DiagRequest body = await JsonSerializer.DeserializeAsync(request.Body, TendJsonContext.Default.DiagRequest, ct)
                ?? throw new BadRequestException("empty request body");
            if (string.IsNullOrWhiteSpace(body.Target)) throw new BadRequestException("target is required (app or app#instance)");
            if (!Enum.TryParse(body.Kind, ignoreCase: true, out DiagKind kind) || int.TryParse(body.Kind, out int _numeric))
                throw new BadRequestException($"unknown kind \"{body.Kind}\": dump, gcdump, trace (for .NET apps), heapsnapshot (Node apps with node_diagnostics) or core (any process)");
            DotnetDumpType dumpType = body.DumpType switch
            {
                null or "heap" => DotnetDumpType.Heap,
                "full" => DotnetDumpType.Full,
                "mini" => DotnetDumpType.Mini,
                _ => throw new BadRequestException($"unknown dump type \"{body.DumpType}\" (heap, full or mini)"),
            };
            TimeSpan duration = TimeSpan.FromMilliseconds(body.DurationMs ?? 10_000);
            if (duration < TimeSpan.FromSeconds(1) || duration > TimeSpan.FromMinutes(10))
                throw new BadRequestException("--duration must be between 1s and 10m");
            DiagArtifact a = await diag.CollectAsync(body.Target, kind, duration, dumpType, "manual", ct);
            return Results.Json(ToWire(a), TendJsonContext.Default.DiagArtifactInfo);
        });

        app.MapGet(ApiRoutes.Diag, (DiagCollector diag) => Results.Json(
            new DiagListInfo([.. diag.List().Select(ToWire)], diag.UsedBytes(), diag.QuotaBytes, diag.Dir), TendJsonContext.Default.DiagListInfo));

        app.MapDelete(ApiRoutes.Diag + "/{id}", (string id, DiagCollector diag) =>
        {
            if (!diag.Delete(id)) throw new Tend.Supervision.TargetNotFoundException($"no artifact \"{id}\" (tend diag ls lists them)");
            return Results.Json(new ActionResult([id], $"deleted {id}"), TendJsonContext.Default.ActionResult);
        });
    }

    private static DiagArtifactInfo ToWire(DiagArtifact a) =>
        new(a.Id, a.App, a.Instance, a.Pid, a.Kind, a.Path, a.Bytes, a.StartedAt, a.FinishedAt, a.Trigger);
}
