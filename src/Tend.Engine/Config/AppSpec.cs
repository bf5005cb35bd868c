namespace Tend.Config;

/// <summary>How an instance is restarted when it exits on its own.</summary>
public enum RestartPolicy
{
    /// <summary>Restart on every exit (OTP: permanent).</summary>
    Always,
    /// <summary>Restart after a non-zero exit or a signal, unless the code is in stop_exit_codes (OTP: transient).</summary>
    OnFailure,
    /// <summary>Never restart (OTP: temporary).</summary>
    Never,
}

/// <summary>How instances share the addresses of <see cref="AppSpec.Listen"/>.</summary>
public enum ListenMode
{
    /// <summary>The daemon opens the sockets and passes them to every instance (systemd socket activation).</summary>
    Socket,
    /// <summary>The daemon accepts and forwards each connection to a ready instance on its own PORT.</summary>
    Proxy,
}

public enum LogFormat
{
    /// <summary>One line per line, prefixed with an ISO 8601 timestamp unless timestamps are off.</summary>
    Text,
    /// <summary>One JSON object per line: {"time","app","instance","stream","text"}.</summary>
    Json,
}

/// <summary>Exponential backoff between restarts: initial * multiplier^(n-1), capped at max, with ±jitter.</summary>
public sealed record BackoffSpec(TimeSpan Initial, TimeSpan Max, double Multiplier, double Jitter)
{
    public static BackoffSpec Default { get; } = new(TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(15), 2.0, 0.1);
}

/// <summary>
/// The per-app circuit breaker (docs/alerts.md#self-healing): after <see cref="MaxFailures"/> failed
/// runs within <see cref="Window"/> restarts stop for <see cref="Break"/> (doubling on each reopening,
/// up to <see cref="MaxBreak"/>), then one half-open attempt that must stay up min_uptime (and be
/// ready) to close it. It takes the place of the crash-loop give-up: the app is never left errored.
/// </summary>
public sealed record BreakerSpec(int MaxFailures, TimeSpan Window, TimeSpan Break, TimeSpan MaxBreak)
{
    public static BreakerSpec Default { get; } = new(5, TimeSpan.FromMinutes(1), TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(10));
}

/// <summary>
/// restart_schedule (PM2's cron_restart): a cron expression (five fields, or six with seconds
/// first) and the time zone it is read in (null: the daemon's local zone). The app is reloaded
/// (replaced instance by instance, health-gated) at each occurrence.
/// </summary>
public sealed record RestartSchedule(string Cron, string? TimeZone);

/// <summary>Where an instance's output goes. Paths may contain {app} and {instance}; null means the default under $TEND_HOME/logs.</summary>
public sealed record LogSpec(
    string? OutFile,
    string? ErrFile,
    bool Timestamps,
    LogFormat Format,
    long MaxSizeBytes,
    int MaxFiles)
{
    public static LogSpec Default { get; } = new(null, null, true, LogFormat.Text, 100L * 1024 * 1024, 5);
}

/// <summary>A per-instance environment variable whose value is Start + instance number (PM2's increment_var).</summary>
public sealed record IncrementVar(string Name, long Start);

/// <summary>
/// One declared program, validated and fully resolved: absolute cwd, merged environment
/// (base env, then env_file, then env), signals as numbers. Value equality, so a reload is a diff.
/// </summary>
public sealed record AppSpec
{
    public required string Name { get; init; }
    /// <summary>The executable as written (resolved on PATH or against Cwd when spawned).</summary>
    public required string Command { get; init; }
    /// <summary>argv[1..].</summary>
    public required EquatableArray<string> Args { get; init; }
    /// <summary>True when Command/Args came from `run` with shell: true (then Command is /bin/sh, Args ["-c", line]).</summary>
    public bool Shell { get; init; }
    public required string Cwd { get; init; }
    /// <summary>The environment the instance starts with, before TEND_APP / TEND_INSTANCE / increment vars.</summary>
    public required EquatableDictionary Env { get; init; }
    public int Instances { get; init; } = 1;
    public RestartPolicy Restart { get; init; } = RestartPolicy.Always;
    public int MaxRestarts { get; init; } = 15;
    public TimeSpan MinUptime { get; init; } = TimeSpan.FromSeconds(1);
    public TimeSpan RestartDelay { get; init; } = TimeSpan.Zero;
    public BackoffSpec Backoff { get; init; } = BackoffSpec.Default;
    /// <summary>Signal number (default SIGTERM = 15).</summary>
    public int StopSignal { get; init; } = 15;

    /// <summary>
    /// reload_signal: `tend reload` sends this to each instance's main process (systemd's
    /// ExecReload=kill -HUP $MAINPID) instead of replacing the instances: an in-place graceful
    /// reload for programs that do it themselves (nginx, gunicorn, PostgreSQL). Null: replace.
    /// </summary>
    public int? ReloadSignal { get; init; }
    public TimeSpan KillTimeout { get; init; } = TimeSpan.FromSeconds(5);
    public EquatableArray<int> StopExitCodes { get; init; } = EquatableArray<int>.Empty;
    /// <summary>Exit codes that mean "do not try again" (bad config, EX_CONFIG 78): never restarted, whatever the policy.</summary>
    public EquatableArray<int> NoRetry { get; init; } = EquatableArray<int>.Empty;
    /// <summary>
    /// A Node app opts in to `tend diag … heapsnapshot`: Tend adds --heapsnapshot-signal=SIGUSR2 and a
    /// --diagnostic-dir of its own to NODE_OPTIONS (docs/alerts.md#diagnostics).
    /// </summary>
    public bool NodeDiagnostics { get; init; }
    /// <summary>
    /// ipc: node. Each instance gets Node's IPC channel (NODE_CHANNEL_FD) and NODE_APP_INSTANCE, as PM2
    /// gives them, so process.send() works (docs/health.md#node-apps). Implied by ready: { message }
    /// and stop_message.
    /// </summary>
    public bool NodeIpc { get; init; }
    /// <summary>stop_message: sent over Node's IPC channel before the stop signal (PM2's shutdown_with_message);
    /// the stop signal follows when the app has not exited within half of kill_timeout.</summary>
    public string? StopMessage { get; init; }
    /// <summary>kubernetes:, min_available:, autoscale: what `tend export kubernetes` makes of the app beyond its workload.</summary>
    public KubernetesSpec Kubernetes { get; init; } = KubernetesSpec.Default;
    /// <summary>The app is a job: its command runs at each occurrence of this schedule (docs/jobs.md); null: a long-running app.</summary>
    public JobSpec? Job { get; init; }
    /// <summary>Restart or reload the app when its files change (docs/config.md#watch); null: never.</summary>
    public WatchSpec? Watch { get; init; }
    /// <summary>Reload the app on a cron schedule (docs/config.md#restart_schedule); null: never.</summary>
    public RestartSchedule? RestartSchedule { get; init; }
    /// <summary>The circuit breaker; null: the crash-loop guard (max_restarts) decides.</summary>
    public BreakerSpec? Breaker { get; init; }
    public long? MaxMemoryBytes { get; init; }
    public LogSpec Logs { get; init; } = LogSpec.Default;
    public IncrementVar? IncrementVar { get; init; }
    /// <summary>OTP's significant child: its exit can shut its supervisor down (see <see cref="AutoShutdown"/>).</summary>
    public bool Significant { get; init; }
    /// <summary>Apps that must reach a condition before this one starts, in the order written.</summary>
    public EquatableArray<Dependency> DependsOn { get; init; } = EquatableArray<Dependency>.Empty;
    /// <summary>How an instance shows it is ready; null means ready as soon as it is spawned.</summary>
    public ReadySpec? Ready { get; init; }
    /// <summary>A liveness probe: failing it restarts the instance.</summary>
    public ProbeSpec? Live { get; init; }
    /// <summary>systemd's WatchdogSec: the instance must send WATCHDOG=1 within each period or it is restarted.</summary>
    public TimeSpan? Watchdog { get; init; }
    /// <summary>An app without a ready instance makes the daemon's /health critical (503), not just degraded.</summary>
    public bool Critical { get; init; }

    /// <summary>Addresses the daemon listens on for the app: "8080", "host:port", "[v6]:port" or a unix socket path.</summary>
    public EquatableArray<string> Listen { get; init; } = EquatableArray<string>.Empty;
    public ListenMode ListenMode { get; init; } = ListenMode.Socket;
    /// <summary>How many instances `tend reload` replaces at once.</summary>
    public int ReloadParallelism { get; init; } = 1;

    /// <summary>User, groups, umask, rlimits, privileges and cgroup limits (docs/config.md#isolation).</summary>
    public IsolationSpec Isolation { get; init; } = IsolationSpec.None;

    /// <summary>The instance gets a NOTIFY_SOCKET: it signals readiness or keeps a watchdog fed through it.</summary>
    public bool UsesNotify => Ready?.Notify == true || Watchdog is not null;
}

/// <summary>A whole validated tend.yaml: apps in declaration order, and the supervision tree over them.</summary>
public sealed record TendConfig(string? SourcePath, EquatableArray<AppSpec> Apps)
{
    public TreeSpec Tree { get; init; } = TreeSpec.Flat;

    /// <summary>The file's alert rules and channels (docs/alerts.md); the daemon keeps one set per config file.</summary>
    public AlertsSpec Alerts { get; init; } = AlertsSpec.None;

    /// <summary>
    /// The implicit root: one_for_one over the apps no supervisor lists (in apps: order) and then
    /// the supervisors no supervisor lists (in supervisors: order). Its intensity counts only
    /// restarts of those supervisors (each app's crash-loop guard decides about that app).
    /// </summary>
    public SupervisorSpec Root
    {
        get
        {
            var placed = new HashSet<string>(Tree.Supervisors.SelectMany(s => s.Children).Select(c => c.Name), StringComparer.Ordinal);
            var children = Apps.Where(a => !placed.Contains(a.Name)).Select(a => new ChildRef(ChildKind.App, a.Name))
                .Concat(Tree.Supervisors.Where(s => !placed.Contains(s.Name)).Select(s => new ChildRef(ChildKind.Supervisor, s.Name)));
            return new SupervisorSpec
            {
                Name = SupervisorSpec.RootName, MaxRestarts = Tree.RootMaxRestarts, Within = Tree.RootWithin,
                Children = new EquatableArray<ChildRef>(children),
            };
        }
    }

    /// <summary>True when the config uses supervisors, depends_on or significant: more than a flat list of apps.</summary>
    public bool HasTree => Tree.Supervisors.Count > 0 || Apps.Any(a => a.DependsOn.Count > 0 || a.Significant);
}
