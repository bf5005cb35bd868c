namespace Tend.Events;

/// <summary>The event types, as they appear on the wire (docs/events.md says what each carries).</summary>
public static class EventTypes
{
    // An instance's process.
    public const string Started = "started";
    public const string SpawnFailed = "spawn_failed";
    public const string Exited = "exited";
    // An instance's status.
    public const string Online = "online";
    public const string Adopted = "adopted";
    public const string Ready = "ready";
    public const string NotReady = "not_ready";
    public const string Stopping = "stopping";
    public const string Stopped = "stopped";
    public const string Errored = "errored";
    public const string Blocked = "blocked";
    public const string RestartScheduled = "restart_scheduled";
    // Health.
    public const string ProbeFailed = "probe_failed";
    public const string HealthFailed = "health_failed";
    public const string MemoryLimit = "memory_limit";
    public const string Oom = "oom";
    // Apps, reloads, deploys, scaling.
    public const string AppAdded = "app_added";
    public const string AppDeleted = "app_deleted";
    public const string AppReplaced = "app_replaced";
    public const string ReloadStarted = "reload_started";
    public const string InstanceReplaced = "instance_replaced";
    public const string ReplacementFailed = "replacement_failed";
    public const string ReloadDone = "reload_done";
    public const string ReloadFailed = "reload_failed";
    public const string DeployStarted = "deploy_started";
    public const string DeployDone = "deploy_done";
    public const string DeployFailed = "deploy_failed";
    public const string Scaled = "scaled";
    public const string ScheduledRestart = "scheduled_restart";
    public const string WatchRestart = "watch_restart";
    public const string WatchPolling = "watch_polling";
    public const string JobStarted = "job_started";
    public const string JobSucceeded = "job_succeeded";
    public const string JobFailed = "job_failed";
    public const string JobSkipped = "job_skipped";
    public const string JobMissed = "job_missed";
    // Supervision trees.
    public const string SupervisorRestart = "supervisor_restart";
    public const string SupervisorFailed = "supervisor_failed";
    public const string AutoShutdown = "auto_shutdown";
    // Self-healing (docs/alerts.md#self-healing).
    public const string Held = "held";
    public const string Released = "released";
    public const string BreakerOpen = "breaker_open";
    public const string BreakerClosed = "breaker_closed";
    // Alerts (docs/alerts.md).
    public const string AlertFiring = "alert_firing";
    public const string AlertResolved = "alert_resolved";
    public const string AlertUndeliverable = "alert_undeliverable";
    // Diagnostics (docs/alerts.md#diagnostics).
    public const string DiagCollected = "diag_collected";
    public const string DiagSkipped = "diag_skipped";
    // The stream itself.
    public const string EventsDropped = "events_dropped";
}
