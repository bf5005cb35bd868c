using System.Text.Json.Serialization;

namespace Tend.Api;

// The control API's wire types. Served by the daemon on $TEND_HOME/tend.sock (and later TCP),
// read by the CLI. JSON names are snake_case and are a contract: scripts rely on them.

/// <summary>One row of `tend list --json`.</summary>
public sealed record InstanceInfo(
    int Id,
    string Name,
    int Instance,
    int? Pid,
    string Status,
    bool Ready,
    int Restarts,
    long UptimeMs,
    double CpuPercent,
    long MemoryBytes,
    int? ExitCode,
    string? ExitSignal,
    string? StatusText = null,
    string? StatusReason = null);

/// <summary>One exit of an instance, newest last in <see cref="InstanceDetail.RecentExits"/>.</summary>
public sealed record ExitRecord(DateTimeOffset Time, int Pid, int? ExitCode, string? ExitSignal, long UptimeMs, string Reason);

/// <summary>An instance as `describe` shows it: the list row and the why behind it.</summary>
public sealed record InstanceDetail(
    int Id,
    string Name,
    int Instance,
    int? Pid,
    string Status,
    bool Ready,
    int Restarts,
    long UptimeMs,
    double CpuPercent,
    long MemoryBytes,
    int? ExitCode,
    string? ExitSignal,
    DateTimeOffset? StartedAt,
    int UnstableRestarts,
    string? StatusReason,
    string? LastRestartReason,
    string OutLog,
    string ErrLog,
    long DroppedLines,
    IReadOnlyList<ExitRecord> RecentExits,
    string? StatusText = null,
    IReadOnlyList<ProbeInfo>? Probes = null,
    NotifyInfo? Notify = null,
    DotnetCountersInfo? Dotnet = null,
    string? DaemonRestart = null);

/// <summary>
/// A .NET instance's runtime counters, read by the daemon over the diagnostics IPC (docs/metrics.md,
/// ".NET runtime counters"). Null for an instance that is not .NET, not running, or not sampled yet.
/// Gauges are the last interval's; the collection, allocation, contention and exception figures are
/// totals since Tend began watching this run. SampledAt tells how fresh they are.
/// </summary>
public sealed record DotnetCountersInfo(
    DateTimeOffset SampledAt,
    long GcHeapBytes,
    long Gen0Collections,
    long Gen1Collections,
    long Gen2Collections,
    double AllocationRateBytesPerSecond,
    long AllocatedBytes,
    double TimeInGcPercent,
    long ThreadPoolThreads,
    long ThreadPoolQueueLength,
    long LockContentions,
    long Exceptions,
    long WorkingSetBytes);

/// <summary>
/// A probe of an instance's current run, for describe. Role is "ready" or "live"; Passing is the
/// state after thresholds, LastSuccess the newest check alone. Recent holds the run's last checks
/// (up to 30), oldest first.
/// </summary>
public sealed record ProbeInfo(
    string Role,
    string Check,
    bool Passing,
    DateTimeOffset? LastAt,
    bool? LastSuccess,
    double? LastLatencyMs,
    string? LastDetail,
    int ConsecutiveFailures,
    long Checks,
    long Failures,
    IReadOnlyList<ProbeCheck>? Recent = null);

/// <summary>
/// One check in <see cref="ProbeInfo.Recent"/>. Detail is the probe's text for a failure or for a
/// success whose text differs from the check before it; otherwise it is left out of the JSON, so thirty
/// identical "HTTP 200" do not fill the answer.
/// </summary>
public sealed record ProbeCheck(
    DateTimeOffset At,
    bool Success,
    double LatencyMs,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Detail = null);

/// <summary>An instance's NOTIFY_SOCKET: datagrams taken, and those ignored as malformed or from another process.</summary>
public sealed record NotifyInfo(string Socket, long Accepted, long Malformed, long Foreign, DateTimeOffset? LastWatchdogAt);

/// <summary>
/// One app in the health endpoints. Status: healthy (every instance that should run is ready),
/// degraded (some are not), critical (none is), stopped (none should run).
/// </summary>
public sealed record AppHealth(string Name, string Status, bool Critical, int Ready, int Wanted, IReadOnlyList<InstanceHealthInfo> Instances);

/// <summary>One instance in <see cref="AppHealth"/>.</summary>
public sealed record InstanceHealthInfo(int Instance, int? Pid, string Status, bool Ready, string? StatusText);

/// <summary>
/// GET /health on the health listener. Status is the daemon-wide tier: critical when an app marked
/// critical has no ready instance (answered with 503), degraded when any app is not fully ready,
/// else healthy.
/// </summary>
public sealed record HealthReport(string Status, int DaemonPid, string Version, long UptimeMs, IReadOnlyList<AppHealth> Apps);

/// <summary>`tend describe --json`: one app, its resolved spec and its instances.</summary>
public sealed record AppInfo(
    string Name,
    string Command,
    IReadOnlyList<string> Args,
    string Cwd,
    int InstancesWanted,
    string Restart,
    int MaxRestarts,
    long MinUptimeMs,
    long RestartDelayMs,
    string StopSignal,
    long KillTimeoutMs,
    IReadOnlyList<int> StopExitCodes,
    long? MaxMemoryBytes,
    string? ConfigPath,
    IReadOnlyDictionary<string, string> Env,
    IReadOnlyList<InstanceDetail> Instances,
    IReadOnlyList<string>? Supervisors = null,
    IReadOnlyList<string>? DependsOn = null,
    string? Ready = null,
    long? ReadyTimeoutMs = null,
    string? Live = null,
    long? WatchdogMs = null,
    bool Critical = false,
    IReadOnlyList<string>? Listen = null,
    string? ListenMode = null,
    BackoffInfo? Backoff = null,
    string? ReloadSignal = null,
    IsolationInfo? Isolation = null,
    WatchInfo? Watch = null,
    JobInfo? Job = null);

/// <summary>A job (an app with schedule:, docs/jobs.md): its schedule, its next run and its recent runs (newest last).</summary>
public sealed record JobInfo(
    string Name, string Cron, string? TimeZone, string Concurrency, long JitterMs, long? StartingDeadlineMs, bool CatchUp, long? TimeoutMs,
    DateTimeOffset? NextRun, bool Running, IReadOnlyList<JobRunInfo> Runs);

/// <summary>One run of a job. Outcome: running, succeeded, failed, timedout, replaced, skipped, missed, interrupted.</summary>
public sealed record JobRunInfo(
    int Id, string Trigger, DateTimeOffset? ScheduledFor, DateTimeOffset StartedAt, DateTimeOffset? EndedAt, string Outcome,
    int? ExitCode, string? ExitSignal, long? DurationMs, string? Detail, IReadOnlyList<string>? Log);

/// <summary>watch: of an app (docs/config.md#watch): what is watched, how, and what a change does.</summary>
/// <param name="Mode">"inotify: 12 directories", or "polling every 1s: 950 files (why)".</param>
public sealed record WatchInfo(IReadOnlyList<string> Paths, IReadOnlyList<string> Include, IReadOnlyList<string> Ignore, long DebounceMs, string Action, string? Mode);

/// <summary>Who an app runs as, with what limits, and how its processes are contained (docs/isolation.md).</summary>
/// <param name="Containment">"a cgroup per instance (…)" or "process group per instance, the daemon as subreaper (no cgroups)".</param>
/// <param name="Cgroup">The instances' cgroup directories, "{instance}" standing for the number and "{id}" for the instance's id; null without cgroups.</param>
/// <param name="Limits">rlimits as "nofile=1024:4096".</param>
/// <param name="Resources">cgroup limits as "memory_max=52428800".</param>
public sealed record IsolationInfo(
    string Containment,
    string? Cgroup,
    string? User,
    uint? Uid,
    uint? Gid,
    IReadOnlyList<uint>? Groups,
    string? Umask,
    IReadOnlyList<string>? Limits,
    bool NoNewPrivs,
    IReadOnlyList<string>? Capabilities,
    IReadOnlyList<string>? Resources);

/// <summary>The restart backoff of an app: initial × multiplier^(n−1), capped at max, ± jitter (a fraction).</summary>
public sealed record BackoffInfo(long InitialMs, long MaxMs, double Multiplier, double Jitter);

/// <summary>
/// POST /v1/start. Either ConfigPath (a tend.yaml, optionally narrowed by Only) or Command (argv).
/// Settings, with a Command: more of the app's tend.yaml keys with their values as text
/// (<c>max_memory: 200M</c>, <c>watch: true</c>; what PM2's start flags set).
/// IfRunning, with a ConfigPath: what to do to the file's apps that already run from it, "reload" or
/// "restart" (PM2's startOrReload / startOrRestart); null leaves those running as declared alone.
/// Interpreter and InterpreterArgs, with a Command: PM2's --interpreter and --interpreter-args (--node-args).
/// </summary>
public sealed record StartRequest(
    string? ConfigPath,
    IReadOnlyList<string>? Only,
    IReadOnlyList<string>? Command,
    string? Name,
    int? Instances,
    string? Cwd,
    IReadOnlyDictionary<string, string>? Env,
    IReadOnlyDictionary<string, string>? Settings = null,
    string? IfRunning = null,
    string? Interpreter = null,
    IReadOnlyList<string>? InterpreterArgs = null);

/// <summary>POST /v1/stop, /v1/restart, /v1/delete, /v1/reset, /v1/flush. Target: "all", an app name, "name#i" or a numeric id.</summary>
public sealed record TargetRequest(string Target);

/// <summary>POST /v1/restart. UpdateEnv: the apps the target names take their spec as declared now with Env (the caller's environment) first.</summary>
public sealed record RestartRequest(string Target, bool UpdateEnv = false, IReadOnlyDictionary<string, string>? Env = null);

/// <summary>POST /v1/reload. UpdateEnv: read the app's config again with Env (the caller's environment).</summary>
public sealed record ReloadRequest(string Target, int? Parallel, bool UpdateEnv, IReadOnlyDictionary<string, string>? Env);

/// <summary>POST /v1/deploy. Strategy: blue-green or canary.</summary>
public sealed record DeployRequest(string App, string Strategy, int? Canary, long? WaitMs, long? WarmupMs, IReadOnlyDictionary<string, string>? Env);

/// <summary>POST /v1/scale: Count (N) or Delta (+N / -N).</summary>
public sealed record ScaleRequest(string App, int? Count, int? Delta);

/// <summary>POST /v1/signal. Scope: "main" (the default: the main process only) or "group" (every process of its group).</summary>
public sealed record SignalRequest(string Target, string Signal, string? Scope = null);

/// <summary>The answer to every action: what it touched, and a line for humans.</summary>
public sealed record ActionResult(IReadOnlyList<string> Affected, string Message);

/// <summary>Any non-2xx answer. ExitCode is what the CLI exits with: 1 unknown target, 2 bad usage or config.</summary>
public sealed record ErrorResponse(string Error, IReadOnlyList<string> Details, int ExitCode);

/// <summary>GET /v1/ping. HealthUrl: where the health endpoints and the dashboard answer; null when off,
/// and then HealthError says why when it was not asked for (the port was taken).
/// FdsInUse and FdLimit: the daemon's open file descriptors and its RLIMIT_NOFILE (null: unlimited).</summary>
public sealed record PingInfo(int Pid, string Version, string Home, long UptimeMs, string? HealthUrl = null, string? HealthError = null,
    int? FdsInUse = null, long? FdLimit = null);

/// <summary>Who acted, in an audit record: Kind is "user" (over the unix socket, SO_PEERCRED), "token" (over TCP) or "system" (Tend itself).</summary>
public sealed record AuditActorDto(string Kind, uint? Uid = null, uint? Gid = null, int? Pid = null, string? User = null, string? Exe = null,
    string? TokenId = null, string? Peer = null);

/// <summary>GET /v1/audit, `tend audit --json`: one record of $TEND_HOME/audit.log.</summary>
public sealed record AuditRecordDto(long Seq, DateTimeOffset Time, AuditActorDto Actor, string Action, string? Target, string Outcome, string? Detail, string Hash);

/// <summary>GET /v1/audit/verify, `tend audit verify`: the chain checked over every file, oldest first.</summary>
public sealed record AuditVerifyResult(bool Ok, long Records, long? FirstSeq, long? LastSeq, IReadOnlyList<string> Problems, IReadOnlyList<string> Files);

/// <summary>POST /v1/daemon/upgrade: the daemon to become (the CLI's own, unless given), and its arguments (the .dll for the dotnet host).</summary>
public sealed record UpgradeRequest(string Program, IReadOnlyList<string> Args);

/// <summary>The answer to an upgrade request, sent before the hand-over begins.</summary>
public sealed record UpgradeAnswer(int Pid, string FromVersion, int Instances, string Message);

/// <summary>One line of GET /v1/logs (application/x-ndjson), and of `tend logs --json`.</summary>
public sealed record LogLineDto(DateTimeOffset? Time, string App, int Instance, string Stream, string Text);

/// <summary>
/// GET /v1/tree, `tend tree --json`: one node of the supervision tree. Kind is "supervisor" or
/// "app". Supervisors: Strategy, MaxRestarts and WithinMs (null for the root, which never gives
/// up), Status running | stopped | failed, Restarts carried out, Reason why it failed. Apps: Status
/// is their instances' statuses joined by "," when they differ, Restarts the instances' sum, Pids.
/// Restart is the node's restart type (always, on-failure, never).
/// </summary>
public sealed record TreeNodeInfo(
    string Name,
    string Kind,
    string? Strategy,
    string Status,
    int Restarts,
    int? MaxRestarts,
    long? WithinMs,
    string Restart,
    string? Reason,
    IReadOnlyList<int> Pids,
    IReadOnlyList<string> DependsOn,
    IReadOnlyList<TreeNodeInfo> Children);

/// <summary>
/// One lifecycle event (GET /events, GET /v1/events, `tend events --json`). Seq counts from 1 per
/// daemon run; 0 marks a notice that is not part of the sequence (events_dropped). Data holds the
/// type's own fields as strings (docs/events.md lists them).
/// </summary>
public sealed record TendEvent(
    long Seq,
    DateTimeOffset Time,
    string Type,
    string? App,
    int? Instance,
    int? Pid,
    string Message,
    IReadOnlyDictionary<string, string>? Data = null);

/// <summary>
/// One point of an app's resource history (GET /v1/history): the mean over a bucket of
/// ResolutionMs of its live instances' summed CPU % (100 = one core) and resident memory, and
/// the most instances sampled in it. Time is the bucket's start.
/// </summary>
public sealed record ResourcePoint(DateTimeOffset Time, double CpuPercent, long MemoryBytes, int Instances);

/// <summary>GET /v1/history[?app=NAME]: each app's recent CPU and memory, oldest point first.</summary>
public sealed record AppHistory(string Name, long ResolutionMs, IReadOnlyList<ResourcePoint> Points);

/// <summary>
/// GET /v1/doctor: what this host and this daemon can enforce (docs/isolation.md#doctor). Ok is false
/// when an app asks for something that cannot be enforced here; Checks are the same facts as lines
/// for people (status ok, warn, fail or info).
/// </summary>
public sealed record DoctorReport(
    bool Ok,
    string CgroupMode,
    string? CgroupDirectory,
    IReadOnlyList<string> CgroupControllers,
    bool CgroupKill,
    IReadOnlyList<string> CgroupNotes,
    bool Subreaper,
    bool Pidfd,
    uint DaemonUid,
    bool CanSwitchUsers,
    long? FdLimit,
    int FdsInUse,
    int FdsNeeded,
    string? HealthUrl,
    string? HealthError,
    bool TokenConfigured,
    IReadOnlyList<DoctorProblem> Problems,
    IReadOnlyList<DoctorCheck> Checks);

/// <summary>An app's setting that cannot be honoured here.</summary>
public sealed record DoctorProblem(string App, string Field, string Message);

/// <summary>One line of `tend doctor`.</summary>
public sealed record DoctorCheck(string Name, string Status, string Detail);

/// <summary>One alert (docs/alerts.md): state pending, firing or resolved; fingerprint = rule + app + instance.</summary>
public sealed record AlertInfo(
    string Fingerprint,
    string Rule,
    string App,
    int? Instance,
    string State,
    string Severity,
    string Summary,
    string Description,
    double? Value,
    DateTimeOffset Since,
    DateTimeOffset? FiredAt,
    DateTimeOffset? ResolvedAt,
    string? ResolvedBecause,
    string? InhibitedBy,
    int Repeats,
    int Notifications,
    string Source);

/// <summary>A notification the outbox gave up on.</summary>
public sealed record UndeliverableInfo(string Id, string Channel, string Fingerprint, string Rule, string App, string Status,
    DateTimeOffset CreatedAt, DateTimeOffset GaveUpAt, int Attempts, string LastError);

/// <summary>GET /v1/alerts: what `tend alerts` shows.</summary>
public sealed record AlertsInfo(
    IReadOnlyList<AlertInfo> Active,
    IReadOnlyList<AlertInfo> Recent,
    int Rules,
    IReadOnlyList<string> Channels,
    int OutboxPending,
    long Delivered,
    long FailedAttempts,
    IReadOnlyList<UndeliverableInfo> Undeliverable);

/// <summary>POST /v1/diag: collect from one instance (docs/alerts.md#diagnostics).</summary>
/// <param name="Kind">dump, gcdump, trace, core or heapsnapshot.</param>
/// <param name="DumpType">For dump: heap (default), full or mini.</param>
public sealed record DiagRequest(string Target, string Kind, long? DurationMs = null, string? DumpType = null);

/// <summary>One artifact under $TEND_HOME/diag/.</summary>
public sealed record DiagArtifactInfo(string Id, string App, int Instance, int Pid, string Kind, string Path, long Bytes,
    DateTimeOffset StartedAt, DateTimeOffset FinishedAt, string Trigger);

/// <summary>GET /v1/diag: `tend diag ls`.</summary>
public sealed record DiagListInfo(IReadOnlyList<DiagArtifactInfo> Artifacts, long UsedBytes, long QuotaBytes, string Dir);

/// <summary>
/// GET /v1/env?target=…: one instance's environment (`tend env`, PM2's env). Pid: the process it was read
/// from, as that process started; null when no process runs and Env is what the next start gets.
/// Secrets are masked as everywhere else (SecretMask, docs/config.md); on the socket only, as describe's details.
/// </summary>
public sealed record InstanceEnvironmentInfo(string Name, int Instance, int Id, int? Pid, IReadOnlyDictionary<string, string> Env);

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    WriteIndented = false)]
[JsonSerializable(typeof(InstanceInfo[]))]
[JsonSerializable(typeof(AppInfo))]
[JsonSerializable(typeof(InstanceEnvironmentInfo[]))]
[JsonSerializable(typeof(JobInfo))]
[JsonSerializable(typeof(JobInfo[]))]
[JsonSerializable(typeof(JobRunInfo))]
[JsonSerializable(typeof(DotnetCountersInfo))]
[JsonSerializable(typeof(ProbeCheck))]
[JsonSerializable(typeof(StartRequest))]
[JsonSerializable(typeof(TargetRequest))]
[JsonSerializable(typeof(RestartRequest))]
[JsonSerializable(typeof(SignalRequest))]
[JsonSerializable(typeof(ReloadRequest))]
[JsonSerializable(typeof(DeployRequest))]
[JsonSerializable(typeof(ScaleRequest))]
[JsonSerializable(typeof(ActionResult))]
[JsonSerializable(typeof(ErrorResponse))]
[JsonSerializable(typeof(PingInfo))]
[JsonSerializable(typeof(DoctorReport))]
[JsonSerializable(typeof(LogLineDto))]
[JsonSerializable(typeof(TreeNodeInfo))]
[JsonSerializable(typeof(AppHealth))]
[JsonSerializable(typeof(HealthReport))]
[JsonSerializable(typeof(TendEvent))]
[JsonSerializable(typeof(AppHistory[]))]
[JsonSerializable(typeof(AuditRecordDto[]))]
[JsonSerializable(typeof(AuditVerifyResult))]
[JsonSerializable(typeof(UpgradeRequest))]
[JsonSerializable(typeof(UpgradeAnswer))]
[JsonSerializable(typeof(AlertsInfo))]
[JsonSerializable(typeof(DiagRequest))]
[JsonSerializable(typeof(DiagArtifactInfo))]
[JsonSerializable(typeof(DiagListInfo))]
public sealed partial class TendJsonContext : JsonSerializerContext;
