namespace Tend.Config;

/// <summary>What a job does when its next run comes while a run is still going (Kubernetes CronJob's concurrencyPolicy).</summary>
public enum JobConcurrency
{
    /// <summary>The new run is skipped (and recorded as skipped).</summary>
    Forbid,
    /// <summary>The new run starts beside the old one, as another instance.</summary>
    Allow,
    /// <summary>The old run is stopped, then the new one starts.</summary>
    Replace,
}

/// <summary>
/// schedule: of an app that is a job (docs/jobs.md): its command runs once at each occurrence of
/// <see cref="Cron"/> in <see cref="TimeZone"/>, and is never restarted. The runs are kept in a
/// history (<see cref="History"/> of them) that survives daemon restarts.
/// </summary>
public sealed record JobSpec(string Cron, string? TimeZone)
{
    /// <summary>A random delay of up to this much is added to each scheduled run, so many jobs on the same minute do not start together.</summary>
    public TimeSpan Jitter { get; init; }
    public JobConcurrency Concurrency { get; init; } = JobConcurrency.Forbid;
    /// <summary>A run that cannot start within this of its time (the daemon was down or busy) is not run; null: no limit.</summary>
    public TimeSpan? StartingDeadline { get; init; }
    /// <summary>After the daemon was down over one or more occurrences: run once, for the latest of them.</summary>
    public bool CatchUp { get; init; }
    /// <summary>A run still going after this long is stopped and counts as failed; null: no limit.</summary>
    public TimeSpan? Timeout { get; init; }
    /// <summary>How many runs the history keeps.</summary>
    public int History { get; init; } = 20;

    public RestartSchedule AsSchedule() => new(Cron, TimeZone);
}
