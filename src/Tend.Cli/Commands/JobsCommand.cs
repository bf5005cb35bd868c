using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Tend.Api;
using Tend.Cli.Rendering;

namespace Tend.Cli.Commands;

/// <summary>`tend jobs [NAME]`: every job with its schedule, next and last run; or one job's run history (docs/jobs.md).</summary>
internal sealed class JobsCommand : TendCommand
{
    private readonly Argument<string?> _name = new("name") { Description = "A job: show its runs", Arity = ArgumentArity.ZeroOrOne };
    private readonly Option<bool> _json = new("--json") { Description = "Print JSON" };

    public JobsCommand(CliContext context) : base("jobs", "List scheduled jobs (apps with schedule:): next run, last result; with a name, its run history.", context)
    {
        Add(_name);
        Add(_json);
    }

    protected override async Task<int> ExecuteAsync(ParseResult parseResult, CancellationToken ct)
    {
        using DaemonClient client = Context.CreateClient(autoStart: false);
        TextWriter output = Out(parseResult);
        bool json = parseResult.GetValue(_json);
        if (parseResult.GetValue(_name) is { } name)
        {
            JobInfo job = await client.GetAsync($"{ApiRoutes.Jobs}/{Uri.EscapeDataString(name)}", TendJsonContext.Default.JobInfo, ct).ConfigureAwait(false);
            output.Write(json ? JsonSerializer.Serialize(job, TendJsonContext.Default.JobInfo) + "\n" : RenderRuns(job, Context.TimeZone));
            return 0;
        }
        JobInfo[] jobs = await client.GetAsync(ApiRoutes.Jobs, TendJsonContext.Default.JobInfoArray, ct).ConfigureAwait(false);
        output.Write(json ? JsonSerializer.Serialize(jobs, TendJsonContext.Default.JobInfoArray) + "\n" : Render(jobs, Context.TimeZone));
        return 0;
    }

    internal static string Render(IReadOnlyList<JobInfo> jobs, TimeZoneInfo zone)
    {
        if (jobs.Count == 0) return "no jobs: give an app schedule: (a cron expression) in a tend.yaml and tend start it (docs/jobs.md)\n";
        var rows = new List<string[]> { new[] { "NAME", "SCHEDULE", "NEXT RUN", "LAST RUN", "RESULT", "DURATION", "RUNS" } };
        foreach (JobInfo j in jobs)
        {
            JobRunInfo? last = j.Runs.LastOrDefault(r => r.Outcome is not ("skipped" or "missed")) ?? j.Runs.LastOrDefault();
            rows.Add([
                j.Name,
                j.Cron + (j.TimeZone is { } tz ? $" ({tz})" : ""),
                j.NextRun is { } next ? Time(next, zone) : "-",
                last is null ? "never" : Time(last.StartedAt, zone),
                j.Running ? "running" : last?.Outcome + (last?.ExitCode is int code && code != 0 ? $" (exit {code})" : "") ?? "-",
                last?.DurationMs is long ms ? Format.Duration(ms) : "-",
                j.Runs.Count.ToString(CultureInfo.InvariantCulture),
            ]);
        }
        return Table(rows);
    }

    internal static string RenderRuns(JobInfo j, TimeZoneInfo zone)
    {
        var text = new StringBuilder();
        string settings = string.Create(CultureInfo.InvariantCulture, $"{j.Name}: {j.Cron}{(j.TimeZone is { } tz ? $" in {tz}" : "")}, concurrency {j.Concurrency}{(j.CatchUp ? ", catch_up" : "")}")
            + (j.TimeoutMs is long t ? $", timeout {Format.Duration(t)}" : "") + (j.JitterMs > 0 ? $", jitter {Format.Duration(j.JitterMs)}" : "");
        text.AppendLine(settings);
        text.AppendLine(CultureInfo.InvariantCulture, $"next run: {(j.NextRun is { } next ? Time(next, zone) : "none")}{(j.Running ? " (a run is going now)" : "")}");
        if (j.Runs.Count == 0)
        {
            text.AppendLine("no runs yet (tend run-job " + j.Name + " runs it now)");
            return text.ToString();
        }
        var rows = new List<string[]> { new[] { "RUN", "TRIGGER", "SCHEDULED", "STARTED", "DURATION", "RESULT", "EXIT", "DETAIL" } };
        foreach (JobRunInfo r in j.Runs)
        {
            rows.Add([
                r.Id.ToString(CultureInfo.InvariantCulture), r.Trigger, r.ScheduledFor is { } s ? Time(s, zone) : "-", Time(r.StartedAt, zone),
                r.DurationMs is long ms ? Format.Duration(ms) : "-", r.Outcome, r.ExitCode?.ToString(CultureInfo.InvariantCulture) ?? r.ExitSignal ?? "-", r.Detail ?? "",
            ]);
        }
        text.Append(Table(rows));
        if (j.Runs.LastOrDefault(r => r.Outcome is "failed" or "timedout") is { Log.Count: > 0 } failed)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"last lines of failed run {failed.Id}:");
            foreach (string line in failed.Log!) text.AppendLine("  " + line);
        }
        return text.ToString();
    }

    private static string Time(DateTimeOffset t, TimeZoneInfo zone) =>
        TimeZoneInfo.ConvertTime(t, zone).ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);

    private static string Table(List<string[]> rows)
    {
        int[] widths = [.. Enumerable.Range(0, rows[0].Length).Select(c => rows.Max(r => r[c].Length))];
        var text = new StringBuilder();
        foreach (string[] row in rows)
            text.AppendLine(string.Join("  ", row.Select((cell, c) => c == row.Length - 1 ? cell : cell.PadRight(widths[c]))).TrimEnd());
        return text.ToString();
    }
}

/// <summary>`tend run-job NAME`: run a job now, outside its schedule, and (by default) wait for its result.</summary>
internal sealed class RunJobCommand : TendCommand
{
    private readonly Argument<string> _name = new("name") { Description = "The job (an app with schedule:)" };
    private readonly Option<bool> _noWait = new("--no-wait") { Description = "Return once the run has started" };

    public RunJobCommand(CliContext context) : base("run-job", "Run a scheduled job now and wait for its result (exit 1 if it failed).", context)
    {
        Add(_name);
        Add(_noWait);
    }

    protected override async Task<int> ExecuteAsync(ParseResult parseResult, CancellationToken ct)
    {
        using DaemonClient client = Context.CreateClient(autoStart: false);
        string name = parseResult.GetValue(_name)!;
        bool wait = !parseResult.GetValue(_noWait);
        JobRunInfo run = await client.PostAsync($"{ApiRoutes.Jobs}/{Uri.EscapeDataString(name)}/run?wait={(wait ? "true" : "false")}", TendJsonContext.Default.JobRunInfo, ct).ConfigureAwait(false);
        TextWriter output = Out(parseResult);
        switch (run.Outcome)
        {
            case "running":
                output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name}: run {run.Id} started"));
                return 0;
            case "succeeded":
                output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name}: run {run.Id} succeeded in {Format.Duration(run.DurationMs ?? 0)}"));
                return 0;
            default:
                Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name}: run {run.Id} {run.Outcome}: {run.Detail}"));
                foreach (string line in run.Log ?? []) Console.Error.WriteLine("  " + line);
                return 1;
        }
    }
}
