using Tend.Api;
using Tend.Daemon.Wire;
using Tend.Jobs;
using Tend.Supervision;

namespace Tend.Daemon;

/// <summary>/v1/jobs: the jobs (apps with schedule:), their runs, and a run now (docs/jobs.md).</summary>
internal static class JobEndpoints
{
    public static void MapJobs(this WebApplication app)
    {
        app.MapGet(ApiRoutes.Jobs, (Supervisor supervisor) =>
            Results.Json(supervisor.ListJobs().Select(WireMapper.ToWire).ToArray(), TendJsonContext.Default.JobInfoArray));

        app.MapGet(ApiRoutes.Jobs + "/{name}", (string name, Supervisor supervisor) =>
            Results.Json(WireMapper.ToWire(Find(supervisor, name)), TendJsonContext.Default.JobInfo));

        app.MapPost(ApiRoutes.Jobs + "/{name}/run", async (string name, bool? wait, Supervisor supervisor, CancellationToken ct) =>
        {
            if (supervisor.RunJob(name) is not var (started, ended)) throw NotFound(supervisor, name);
            JobRun run = wait == true ? await ended.WaitAsync(ct) : started;
            return Results.Json(WireMapper.ToWire(run), TendJsonContext.Default.JobRunInfo);
        });
    }

    private static JobSnapshot Find(Supervisor supervisor, string name) =>
        supervisor.ListJobs().FirstOrDefault(j => j.App == name) ?? throw NotFound(supervisor, name);

    private static TargetNotFoundException NotFound(Supervisor supervisor, string name)
    {
        var jobs = supervisor.ListJobs().Select(j => j.App).ToList();
        return new TargetNotFoundException($"no job \"{name}\"" + (jobs.Count == 0 ? " (no app has schedule:)" : $"; jobs: {string.Join(", ", jobs)}"));
    }
}
