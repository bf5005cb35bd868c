using System.Text.Json.Serialization;

namespace Tend.Jobs;

/// <summary>How a run of a job ended (or that it did not run).</summary>
[JsonConverter(typeof(JsonStringEnumConverter<JobOutcome>))]
public enum JobOutcome
{
    Running,
    Succeeded,
    Failed,
    /// <summary>Still running at the job's timeout: stopped, and a failure.</summary>
    TimedOut,
    /// <summary>Stopped because the next run came with concurrency: replace.</summary>
    Replaced,
    /// <summary>Not run: the previous run was still going (concurrency: forbid).</summary>
    Skipped,
    /// <summary>Not run: its time passed while the daemon was down or beyond starting_deadline.</summary>
    Missed,
    /// <summary>The daemon stopped while it ran; how it ended is not known.</summary>
    Interrupted,
}

/// <summary>One run of a job, as `tend jobs NAME` and describe show it.</summary>
/// <param name="Trigger">schedule, catch_up or manual (`tend run-job`).</param>
/// <param name="ScheduledFor">The occurrence it is for; null for a manual run.</param>
/// <param name="Detail">Why it ended so (the exit, the timeout, the run it skipped for).</param>
/// <param name="Log">The last lines it wrote (stdout and stderr), for a failed run's first look.</param>
public sealed record JobRun(
    int Id,
    string Trigger,
    DateTimeOffset? ScheduledFor,
    DateTimeOffset StartedAt,
    DateTimeOffset? EndedAt,
    JobOutcome Outcome,
    int? ExitCode,
    string? Signal,
    string? Detail,
    IReadOnlyList<string>? Log)
{
    [JsonIgnore] public TimeSpan? Duration => EndedAt is { } end ? end - StartedAt : null;

    [JsonIgnore] public bool IsFailure => Outcome is JobOutcome.Failed or JobOutcome.TimedOut;
}

/// <summary>How one run's process ended, as the supervisor saw it.</summary>
public sealed record JobProcessEnd(bool Success, int? ExitCode, string? Signal, string Reason, IReadOnlyList<string> Log);

/// <summary>The job as `tend jobs` lists it.</summary>
public sealed record JobSnapshot(string App, Config.JobSpec Spec, DateTimeOffset? NextRun, bool Running, IReadOnlyList<JobRun> Runs);

/// <summary>
/// The process side of a job: starting a run of the app and stopping what runs. Implemented by the
/// supervisor over the app's instances, so a run gets everything an instance has (its logs,
/// isolation, cgroup, events); <see cref="JobScheduler"/> only decides when.
/// </summary>
public interface IJobTarget
{
    /// <summary>A run is going now.</summary>
    bool IsRunning { get; }

    /// <summary>Starts a run (beside a running one when <paramref name="alongside"/>) and completes when its process has ended.</summary>
    Task<JobProcessEnd> RunAsync(bool alongside);

    /// <summary>Stops every run going now.</summary>
    Task StopAsync();
}
