using Microsoft.Extensions.Logging;
using Tend.Config;
using Tend.Health;
using Tend.Logs;
using Tend.Processes;

namespace Tend.Supervision;

/// <summary>
/// One running copy of an app (web#0). Owns a run loop: spawn, wait for exit or a stop request,
/// decide about a restart, back off, spawn again. Commands (start, stop, restart) are serialized
/// by <see cref="_commands"/>; the loop's state is published under <see cref="_gate"/> so readers
/// (list, describe, the sampler) always see a consistent snapshot.
/// </summary>
public sealed class Instance : IHealthSink
{
    private const int RecentExitsKept = 10;

    private readonly App _app;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _commands = new(1, 1);
    private readonly Lock _gate = new();
    private readonly RestartTracker _tracker = new();
    private readonly Queue<InstanceExit> _recentExits = new();

    private CancellationTokenSource? _stopLoop;
    private Task _loop = Task.CompletedTask;
    private TaskCompletionSource _launched = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TaskCompletionSource<string>? _restartRequest;
    private ChildProcess? _child;

    private LifeState _life = LifeState.Initial; // what InstanceLifecycle decides; changed only through Transit
    private int? _pid;
    private ulong _startTime;
    private long _startedTimestamp;
    private DateTimeOffset? _startedAt;
    private ExitStatus? _lastExit;
    private double _cpuPercent;
    private long _memoryBytes;
    private long _droppedBefore; // dropped lines of earlier runs; the live writers count their own
    private LogWriter? _outLog;
    private LogWriter? _errLog;
    private int _overMemorySamples;
    private string? _statusText;
    private long _lastStatusLogged; // timestamp of the last STATUS= line in daemon.log
    private InstanceHealth? _health;
    private TaskCompletionSource<RunFailure>? _failRun;
    private NotifyEndpoint? _notify;
    private CarriedRun? _carried; // set by AdoptAsync, taken by the loop's first run
    private string? _holdFor; // while_down: stop: the dependency that went down, taken by the loop
    private int _breakerClosed; // 1: the half-open run stayed up; the loop closes the tracker's breaker at the next exit
    private string? _origin; // how the live run came to this daemon, when it was not spawned by it
    private volatile bool _handingOver; // the daemon is handing over: health verdicts wait for the next one
    private Runtime.DotnetCounters? _dotnet; // the live run's last .NET counter snapshot
    // Reset while a spawn is between posix_spawn and the new pid being published. A child can send
    // READY=1 before posix_spawn has even returned to us; the notify thread waits for the pid
    // rather than judge the datagram foreign.
    private readonly ManualResetEventSlim _published = new(initialState: true);
    private static int s_notifyGeneration;

    internal Instance(App app, int id, int number, TimeProvider time, ILogger logger)
    {
        _app = app;
        Id = id;
        Number = number;
        _time = time;
        _logger = logger;
    }

    internal App App => _app;

    /// <summary>Counters for /metrics that outlive a run.</summary>
    public Metrics.InstanceMetrics Metrics { get; } = new();

    /// <summary>When the live run was spawned; null when none is live.</summary>
    public DateTimeOffset? LiveSince { get { lock (_gate) return _pid is null ? null : _startedAt; } }

    /// <summary>The live run's .NET runtime counters; null when it is not .NET, not sampled yet, or not running.</summary>
    public Runtime.DotnetCounters? DotnetCounters { get { lock (_gate) return _dotnet; } }

    /// <summary>How the last run ended; null before the first exit.</summary>
    public ExitStatus? LastExit { get { lock (_gate) return _lastExit; } }

    public int Id { get; }
    public int Number { get; }
    public string Name => _app.Name;
    public string Label => $"{_app.Name}#{Number}";

    /// <summary>What the user asked for: true after start/restart, false after stop. Persisted.</summary>
    public bool WantedRunning { get; private set; }

    public InstanceStatus Status { get { lock (_gate) return _life.Status; } }

    /// <summary>The pid and start time of the live child, for the state file (null when none).</summary>
    public (int Pid, ulong StartTime)? LiveProcess
    {
        get { lock (_gate) return _pid is int pid ? (pid, _startTime) : null; }
    }

    /// <summary>The instance as state.json records it: with a live child, what a daemon adopting it carries over.</summary>
    internal State.PersistedInstance Persisted()
    {
        lock (_gate)
        {
            return _pid is int pid
                ? new(Id, Number, WantedRunning, pid, _startTime, _life.Restarts, _life.Ready, _startedAt, ProxyPort)
                : new(Id, Number, WantedRunning, null, null, _life.Restarts);
        }
    }

    /// <summary>The live child's cgroup, when it runs in one: where its exact CPU and memory figures are.</summary>
    internal Isolation.InstanceCgroup? LiveCgroup
    {
        get { lock (_gate) return _child?.Cgroup; }
    }

    /// <summary>
    /// The environment of the live process as it was started (from /proc), or, with none running, the
    /// one the next start builds from the spec as it is now. Reading never makes anything: a notify
    /// socket not made yet is left out of the next start's view.
    /// </summary>
    public InstanceEnvironmentView Environment()
    {
        if (LiveProcess is var (pid, startTime) && ProcStat.ReadEnvironment(pid, startTime) is { } started)
            return new(Name, Number, Id, pid, started);
        AppSpec spec = Spec;
        string? nodeDir = spec.NodeDiagnostics ? InstanceEnvironment.NodeDiagnosticDir(_app.Home, Name, Number) : null;
        var next = InstanceEnvironment.Build(spec, Number, ProxyPort, () => _notify?.Path, hasListenFds: _app.ListenHandles.Count > 0, nodeDir);
        return new(Name, Number, Id, null, next);
    }

    /// <summary>The spec this instance runs: its app's, unless a canary deploy pinned a newer one to it.</summary>
    public AppSpec Spec => PinnedSpec ?? _app.Spec;
    public string OutLogPath => LogPaths.Resolve(Spec.Logs, LogStream.Out, Name, Number, _app.Home, Spec.Cwd);
    public string ErrLogPath => LogPaths.Resolve(Spec.Logs, LogStream.Err, Name, Number, _app.Home, Spec.Cwd);

    /// <summary>Set by a canary deploy: this instance runs the new spec while the others keep the old one.</summary>
    internal AppSpec? PinnedSpec { get; set; }

    /// <summary>listen_mode: proxy: the loopback port this instance listens on (its PORT), chosen by the daemon.</summary>
    internal int? ProxyPort { get; init; }

    /// <summary>Being replaced: the proxy sends it no new connections while it finishes the ones it has.</summary>
    internal bool Draining { get; set; }

    /// <summary>Start the run loop; returns once the first spawn was attempted, so a caller's list shows the pid.</summary>
    public Task StartAsync() => StartAsync(null);

    /// <summary>
    /// Start the run loop, but spawn only once <paramref name="dependencies"/> says so (depends_on).
    /// Returns as soon as the instance is waiting: a dependency such as a migration may take long,
    /// and the caller should not hold every other command up meanwhile. The gate returns null to
    /// go ahead, or why the instance must not start; then the instance is blocked.
    /// </summary>
    internal Task StartAsync(Func<CancellationToken, Task<string?>>? dependencies) => RunCommandAsync(async () =>
    {
        if (!_loop.IsCompleted) return;
        _app.Listeners?.EnsureOpen(); // closed by a stop of the whole app; throws if the port was taken meanwhile
        WantedRunning = true;
        _tracker.Reset();
        BeginLoop(dependencies);
        await _launched.Task.ConfigureAwait(false);
    });

    /// <summary>
    /// Take over a run of the previous daemon (docs/upgrade.md): the loop begins with the carried
    /// process instead of a spawn, and goes on as if it had started it (restarts, stops, health).
    /// </summary>
    internal Task AdoptAsync(CarriedRun carried) => RunCommandAsync(async () =>
    {
        if (!_loop.IsCompleted) return;
        WantedRunning = true;
        _tracker.Reset();
        _carried = carried;
        BeginLoop();
        await _launched.Task.ConfigureAwait(false);
    });

    /// <summary>
    /// Hand-over to the next daemon: stop reading the pipes (what is not read stays for the next
    /// daemon) and hold health verdicts. The pipes and the notify socket to hand over; nothing when
    /// no process runs.
    /// </summary>
    internal IReadOnlyList<(string Name, System.Runtime.InteropServices.SafeHandle Handle)> PauseForHandOver()
    {
        LogWriter? outLog, errLog;
        lock (_gate)
        {
            if (_pid is null || _outLog is null || _errLog is null) return NotifyHandOver();
            outLog = _outLog;
            errLog = _errLog;
        }
        _handingOver = true;
        var handles = new List<(string, System.Runtime.InteropServices.SafeHandle)>();
        if (outLog.PauseForHandOver() is { } o) handles.Add(($"out.{Id}", o));
        if (errLog.PauseForHandOver() is { } e) handles.Add(($"err.{Id}", e));
        handles.AddRange(NotifyHandOver());
        return handles;
    }

    private IReadOnlyList<(string, System.Runtime.InteropServices.SafeHandle)> NotifyHandOver() =>
        _notify is { } n ? [($"notify.{Id}", n.Socket.Handle)] : [];

    /// <summary>A hand-over that did not happen: read the pipes again.</summary>
    internal void ResumeAfterHandOver()
    {
        LogWriter? outLog, errLog;
        lock (_gate) { outLog = _outLog; errLog = _errLog; }
        outLog?.ResumeAfterHandOver();
        errLog?.ResumeAfterHandOver();
        _handingOver = false;
    }

    /// <summary>The previous daemon's notify socket for this instance, taken over so the app's NOTIFY_SOCKET keeps working.</summary>
    internal void AdoptNotifySocket(Io.SafeFdHandle handle)
    {
        if (_notify is not null || _app.NotifyHub is not { } hub) { handle.Dispose(); return; }
        _notify = hub().Adopt(handle, IsOwnProcess, OnNotify);
    }

    /// <summary>Why the live run was not spawned by this daemon, for describe; set when the daemon restarted.</summary>
    internal string? Origin { get { lock (_gate) return _origin; } set { lock (_gate) _origin = value; } }

    public Task StopAsync() => RunCommandAsync(async () =>
    {
        WantedRunning = false;
        await EndLoopAsync().ConfigureAwait(false);
    });

    /// <summary>Stop the process because the daemon is going away; what the user wanted stays recorded.</summary>
    public Task ShutdownAsync() => RunCommandAsync(EndLoopAsync);

    public Task RestartAsync(string reason) => RestartAsync(reason, null);

    /// <summary>Restart; with <paramref name="dependencies"/>, the new run waits for them as <see cref="StartAsync(Func{CancellationToken, Task{string?}}?)"/> does.</summary>
    internal Task RestartAsync(string reason, Func<CancellationToken, Task<string?>>? dependencies) => RunCommandAsync(async () =>
    {
        _app.Listeners?.EnsureOpen();
        WantedRunning = true;
        bool wasRunning = !_loop.IsCompleted;
        await EndLoopAsync().ConfigureAwait(false);
        bool ranBefore;
        lock (_gate) ranBefore = wasRunning || _lastExit is not null;
        Transit(new RestartCommanded(reason, ranBefore));
        _tracker.Reset();
        BeginLoop(dependencies);
        await _launched.Task.ConfigureAwait(false);
    });

    /// <summary>Zero the restart counters (tend reset).</summary>
    public void ResetCounters()
    {
        Transit(new CountersReset(), () => { _droppedBefore = -(_outLog?.DroppedLines ?? 0) - (_errLog?.DroppedLines ?? 0); _recentExits.Clear(); });
        _tracker.Reset();
    }

    /// <summary>
    /// Send a signal to the instance's main process (through its pidfd), or to every process of its
    /// group. False when it has no live process.
    /// </summary>
    public bool Signal(int signal, SignalScope scope = SignalScope.Main)
    {
        ChildProcess? child;
        lock (_gate) child = _child;
        if (child is null) return false;
        bool sent = scope == SignalScope.Group ? child.SignalGroup(signal) : child.Signal(signal);
        if (!sent) return false;
        EngineLog.Signalled(_logger, Name, Number, child.Pid, Signals.Name(signal) + (scope == SignalScope.Group ? " (process group)" : ""));
        return true;
    }

    /// <summary>Called by the sampler with the process group's usage.</summary>
    internal void OnSample(double cpuPercent, long memoryBytes)
    {
        long? limit = Spec.MaxMemoryBytes;
        int pid;
        lock (_gate)
        {
            if (_life.Status != InstanceStatus.Online || _pid is null) return;
            pid = _pid.Value;
            _cpuPercent = cpuPercent;
            _memoryBytes = memoryBytes;
            _overMemorySamples = limit is long l && memoryBytes > l ? _overMemorySamples + 1 : 0;
            // Two samples in a row (a second apart): a limit is about what a process holds,
            // not a spike while it allocates and frees.
            if (_overMemorySamples < 2) return;
            _overMemorySamples = 0;
        }
        EngineLog.MemoryExceeded(_logger, Name, Number, pid, memoryBytes, limit!.Value);
        this.EventMemoryLimit(pid, memoryBytes, limit.Value);
        string reason = $"max_memory: {memoryBytes} bytes > {limit.Value}";
        if (_app.BeforeMemoryRestart is not { } before)
        {
            RequestInPlaceRestart(reason);
            return;
        }
        // Collect first (a collection rule), then restart; once per run.
        if (Interlocked.Exchange(ref _collectingBeforeRestart, 1) == 1) return;
        _ = Task.Run(async () =>
        {
            try { await before(this).ConfigureAwait(false); }
            catch (Exception ex) { EngineLog.InternalError(_logger, Name, Number, "before max_memory restart: " + ex.Message); }
            finally
            {
                RequestInPlaceRestart(reason);
                Volatile.Write(ref _collectingBeforeRestart, 0);
            }
        });
    }

    private int _collectingBeforeRestart;

    /// <summary>A new .NET counter snapshot of run <paramref name="pid"/>; dropped once that run is over.</summary>
    private void OnDotnetCounters(int pid, Runtime.DotnetCounters counters)
    {
        lock (_gate)
        {
            if (_pid == pid && _life.Status is InstanceStatus.Online or InstanceStatus.Stopping) _dotnet = counters;
        }
    }

    /// <summary>
    /// The breaker's half-open run: once it has been up min_uptime and is ready, the breaker closes.
    /// Checked at min_uptime and again each min_uptime after while it is not ready yet.
    /// </summary>
    private async Task CloseBreakerWhenStableAsync(int pid, AppSpec spec, CancellationToken stop)
    {
        TimeSpan step = spec.MinUptime > TimeSpan.Zero ? spec.MinUptime : TimeSpan.FromSeconds(1);
        try
        {
            while (true)
            {
                await Task.Delay(step, _time, stop).ConfigureAwait(false);
                InstanceSnapshot now = Snapshot();
                if (now.Pid != pid || now.Status != InstanceStatus.Online) return;
                if (!now.Ready) continue;
                Volatile.Write(ref _breakerClosed, 1);
                Transit(new BreakerClosed(pid));
                return;
            }
        }
        catch (OperationCanceledException) { }
    }

    /// <summary>while_down: stop: end the live run and hold the instance until <paramref name="dependency"/> is ready again.</summary>
    internal void HoldForDependency(string dependency)
    {
        if (Status != InstanceStatus.Online) return;
        Volatile.Write(ref _holdFor, dependency);
        RequestInPlaceRestart($"{dependency} is down (while_down: stop)");
    }

    private void RequestInPlaceRestart(string reason)
    {
        TaskCompletionSource<string>? request;
        lock (_gate) request = _restartRequest;
        request?.TrySetResult(reason);
    }

    public InstanceSnapshot Snapshot()
    {
        lock (_gate) return SnapshotLocked();
    }

    private InstanceSnapshot SnapshotLocked() =>
        new(Id, Name, Number, _pid, _life.Status, _life.Ready, _life.Restarts, _life.StatusReason, _life.LastRestartReason,
            _lastExit, _recentExits.Count > 0 ? _recentExits.Last().Reason : null)
        {
            Uptime = UptimeLocked(),
            CpuPercent = _cpuPercent,
            MemoryBytes = _memoryBytes,
            StatusText = _statusText,
        };

    /// <summary>Unique per instance object: during a reload the old and the new #0 are both proxy backends for a moment.</summary>
    internal string BackendName => $"{Label}/{Id}";

    /// <summary>The snapshot and the why behind it, for describe.</summary>
    public InstanceDetails Details()
    {
        lock (_gate)
        {
            return new InstanceDetails(SnapshotLocked(), _startedAt, _tracker.UnstableRuns, OutLogPath, ErrLogPath,
                _droppedBefore + (_outLog?.DroppedLines ?? 0) + (_errLog?.DroppedLines ?? 0),
                [.. _recentExits], _health?.Describe(),
                _notify is { } n ? new NotifyCounters(n.Path, n.Accepted, n.Malformed, n.Foreign, _health?.LastWatchdogAt) : null,
                _dotnet, _origin);
        }
    }

    private TimeSpan UptimeLocked() =>
        _life.Status is InstanceStatus.Online or InstanceStatus.Stopping && _pid is not null
            ? _time.GetElapsedTime(_startedTimestamp)
            : TimeSpan.Zero;

    private async Task RunCommandAsync(Func<Task> command)
    {
        await _commands.WaitAsync().ConfigureAwait(false);
        try { await command().ConfigureAwait(false); }
        finally { _commands.Release(); _app.Changed(); }
    }

    private void BeginLoop(Func<CancellationToken, Task<string?>>? dependencies = null)
    {
        _stopLoop = new CancellationTokenSource();
        _launched = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var token = _stopLoop.Token;
        Transit(new LoopBegins(WaitsForDependencies: dependencies is not null));
        _loop = Task.Run(() => RunLoopAsync(dependencies, token));
    }

    private async Task EndLoopAsync()
    {
        _stopLoop?.Cancel();
        await _loop.ConfigureAwait(false);
        _stopLoop?.Dispose();
        _stopLoop = null;
    }

    private async Task RunLoopAsync(Func<CancellationToken, Task<string?>>? dependencies, CancellationToken stop)
    {
        try
        {
            if (dependencies is not null)
            {
                _launched.TrySetResult();
                string? blocked;
                try { blocked = await dependencies(stop).ConfigureAwait(false); }
                catch (OperationCanceledException) when (stop.IsCancellationRequested) { blocked = null; }
                if (stop.IsCancellationRequested)
                {
                    SetFinal(InstanceStatus.Stopped, "stopped by user", InstanceEndKind.Requested);
                    return;
                }
                if (blocked is not null)
                {
                    SetFinal(InstanceStatus.Blocked, blocked, InstanceEndKind.Blocked);
                    return;
                }
                Transit(new DependenciesMet());
            }
            while (!stop.IsCancellationRequested)
            {
                AppSpec spec = Spec;
                RunOutcome outcome = await RunOnceAsync(spec, stop).ConfigureAwait(false);
                if (outcome.StoppedByUser) break;

                // while_down (docs/alerts.md#self-healing): not restarted against a dependency that is down.
                string? heldFor = Interlocked.Exchange(ref _holdFor, null);
                bool wouldRestart = spec.Restart == RestartPolicy.Always || spec.Restart == RestartPolicy.OnFailure
                    && (outcome.Failure is not null || !(outcome.Exit.IsSuccess || outcome.Exit.Code is int c && spec.StopExitCodes.Contains(c)));
                if (heldFor is null && outcome.InPlaceRestartReason is null && wouldRestart)
                    heldFor = _app.Dependencies?.DownDependency(spec);
                if (heldFor is not null && _app.Dependencies is { } gate)
                {
                    string how = outcome.InPlaceRestartReason is null ? $"{Label} exited ({outcome.Failure?.Reason ?? outcome.Exit.ToString()})" : $"{Label} was stopped";
                    Transit(new HeldFor(heldFor, $"{heldFor} is down; {how} and waits for it to be ready (restarts paused, not counted)"));
                    if (!await gate.WaitUpAsync(spec, stop).ConfigureAwait(false) || stop.IsCancellationRequested) break;
                    Transit(new HoldReleased(heldFor));
                    continue;
                }

                if (outcome.InPlaceRestartReason is string why)
                {
                    Transit(new RestartsInPlace(why));
                    continue;
                }

                if (Interlocked.Exchange(ref _breakerClosed, 0) == 1) _tracker.CloseBreaker();
                DateTimeOffset decidedAt = _time.GetUtcNow();
                RestartDecision decision = _tracker.OnExit(spec, outcome.Exit, outcome.Uptime, outcome.Failure, decidedAt);
                string ended = outcome.Failure?.Reason ?? outcome.Exit.ToString();
                if (decision is RestartDecision.Restart && _app.Node?.OnInstanceExit(_app, this, ended) is string takenOver)
                {
                    // The supervisor restarts us with our siblings (or has given up): this loop is done.
                    SetFinal(InstanceStatus.Stopped, takenOver, InstanceEndKind.TakenOver);
                    return;
                }
                switch (decision)
                {
                    case RestartDecision.Stay stay:
                        SetFinal(InstanceStatus.Stopped, stay.Reason, InstanceEndKind.Finished);
                        _app.Node?.OnInstanceEnded(_app, $"{Label} exited ({ended}) and is not restarted");
                        return;
                    case RestartDecision.GiveUp giveUp:
                        SetFinal(InstanceStatus.Errored, giveUp.Reason, InstanceEndKind.GaveUp);
                        _app.Node?.OnInstanceEnded(_app, $"{Label} errored ({giveUp.Reason})");
                        return;
                    case RestartDecision.Break pause:
                        Transit(new BreakerOpened(pause.Duration, pause.Opens, pause.Reason));
                        try { await WaitFromAsync(decidedAt, pause.Duration, stop).ConfigureAwait(false); }
                        catch (OperationCanceledException) { goto stopped; }
                        _tracker.HalfOpen = true;
                        Transit(new Relaunching("breaker half-open"));
                        break;
                    case RestartDecision.Restart restart:
                        string reason = ended;
                        Transit(new RestartScheduled(restart.Delay, reason));
                        if (restart.Delay > TimeSpan.Zero)
                        {
                            try { await WaitFromAsync(decidedAt, restart.Delay, stop).ConfigureAwait(false); }
                            catch (OperationCanceledException) { break; }
                        }
                        Transit(new Relaunching(reason));
                        break;
                }
            }
            stopped:
            SetFinal(InstanceStatus.Stopped, "stopped by user", InstanceEndKind.Requested);
        }
        catch (Exception ex)
        {
            // The loop must never die silently: an instance nobody watches is worse than one marked errored.
            SetFinal(InstanceStatus.Errored, "internal error: " + ex.Message, InstanceEndKind.InternalError, ex.ToString());
        }
        finally
        {
            _launched.TrySetResult();
        }
    }

    private readonly List<TaskCompletionSource<InstanceEnd>> _endWaiters = [];

    /// <summary>Completes when the run loop next ends for good (a job's run: the process exited and is
    /// not restarted). Ask before starting the instance.</summary>
    internal Task<InstanceEnd> NextEndAsync()
    {
        var waiter = new TaskCompletionSource<InstanceEnd>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate) _endWaiters.Add(waiter);
        return waiter.Task;
    }

    /// <summary>A process of this instance is starting, running or stopping.</summary>
    internal bool IsActive => Status is InstanceStatus.Launching or InstanceStatus.Online or InstanceStatus.Stopping or InstanceStatus.Waiting;

    private void SetFinal(InstanceStatus status, string reason, InstanceEndKind kind, string? detail = null)
    {
        ExitStatus? lastExit = null;
        Transit(new LoopEnded(status, reason, kind, detail), () =>
        {
            lastExit = _lastExit;
            _pid = null;
            _child = null;
            _cpuPercent = 0;
            _memoryBytes = 0;
            _dotnet = null;
        });
        var end = new InstanceEnd(Name, Number, kind, lastExit, reason)
        {
            CleanExit = lastExit is { } e && (e.IsSuccess || e.Code is int code && Spec.StopExitCodes.Contains(code)),
        };
        _app.OnInstanceEnded(end);
        TaskCompletionSource<InstanceEnd>[] waiters;
        lock (_gate)
        {
            waiters = [.. _endWaiters];
            _endWaiters.Clear();
        }
        foreach (var waiter in waiters) waiter.TrySetResult(end);
    }

    private readonly record struct RunOutcome(ExitStatus Exit, TimeSpan Uptime, bool StoppedByUser, string? InPlaceRestartReason, RunFailure? Failure = null);

    private async Task<RunOutcome> RunOnceAsync(AppSpec spec, CancellationToken stop)
    {
        CarriedRun? carried = Interlocked.Exchange(ref _carried, null);
        long launchedAt = _time.GetTimestamp();
        if (carried?.StartedAt is DateTimeOffset since && _time.GetUtcNow() - since is { Ticks: > 0 } age)
            launchedAt -= (long)(age.TotalSeconds * _time.TimestampFrequency); // uptime goes on from the previous daemon's
        _published.Reset();
        InstanceProcess run;
        Dictionary<string, string> env;
        try
        {
            string? nodeDir = null;
            if (spec.NodeDiagnostics)
            {
                nodeDir = InstanceEnvironment.NodeDiagnosticDir(_app.Home, Name, Number);
                Directory.CreateDirectory(nodeDir);
                // Written by the app's user, filed away by the daemon: open to all, like /tmp.
                File.SetUnixFileMode(nodeDir, (UnixFileMode)0x3FF | UnixFileMode.StickyBit);
            }
            env = InstanceEnvironment.Build(spec, Number, ProxyPort, EnsureNotifyEndpoint, hasListenFds: _app.ListenHandles.Count > 0, nodeDir); // may open the notify socket: a full disk or no fds fail here
            run = carried is null
                ? await InstanceProcess.StartAsync(this, spec, env, this, _time, _logger, launchedAt).ConfigureAwait(false)
                : InstanceProcess.Adopt(this, spec, env, carried, this, _time, _logger, launchedAt);
        }
        catch (Exception ex) when (ex is FailedStartException or IOException or System.Net.Sockets.SocketException or OutOfMemoryException)
        {
            if (carried is not null)
            {
                EngineLog.AdoptFailed(_logger, Name, Number, carried.Child.Pid, ex.Message);
                await using (carried.Child.ConfigureAwait(false)) await carried.Child.StopAsync(spec.StopSignal, spec.KillTimeout).ConfigureAwait(false);
            }
            return FailedStart(ex.Message);
        }

        ChildProcess child = run.Child;
        // The cgroup's OOM count before this run: a run that dies by SIGKILL while it went up was the kernel's OOM killer.
        long oomBefore = child.Cgroup?.OomKills() ?? 0;
        var restartRequest = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var failRun = new TaskCompletionSource<RunFailure>(TaskCreationOptions.RunContinuationsAsynchronously);
        // Logged before the new pid is published and the starter released, so daemon.log shows
        // starts in the order they happened, and anyone who sees the pid finds its event.
        if (carried is null) Transit(new ProcessStarted(child.Pid));
        LifeInput online = carried is null
            ? new CameOnline(child.Pid, run.Health.ReadyOnSpawn)
            : new Adopted(child.Pid, carried.Restarts, carried.Ready && spec.Ready is not null || run.Health.ReadyOnSpawn, carried.How);
        Transit(online, () =>
        {
            _child = child;
            _pid = child.Pid;
            _startTime = child.StartTime;
            _startedTimestamp = launchedAt;
            _startedAt = carried?.StartedAt ?? _time.GetUtcNow();
            if (carried is not null) _origin = $"adopted from the previous daemon ({carried.How}): pid, pipes and counters carried over";
            _statusText = null;
            _health = run.Health;
            _failRun = failRun;
            _restartRequest = restartRequest;
            _overMemorySamples = 0;
            _outLog = run.OutLog;
            _errLog = run.ErrLog;
            _dotnet = null;
        }, published: _published);
        if (carried is null && _app.DescriptorStore is { } store && child.StandardOutput is { } o && child.StandardError is { } e)
        {
            // Kept outside the daemon, so a crash of it does not cost this run (docs/upgrade.md).
            store.Keep($"out.{Id}", o);
            store.Keep($"err.{Id}", e);
        }
        int pid = child.Pid;
        run.StartWatching(_app.DotnetCounters, Label, c => OnDotnetCounters(pid, c));
        _launched.TrySetResult();
        if (_tracker.HalfOpen) _ = CloseBreakerWhenStableAsync(pid, spec, stop);

        var stopRequested = Task.Delay(Timeout.Infinite, stop);
        Task first = await Task.WhenAny(child.Exited, stopRequested, restartRequest.Task, failRun.Task).ConfigureAwait(false);

        ExitStatus exit;
        string reason;
        bool byUser = false;
        string? inPlace = null;
        RunFailure? failure = null;
        if (first == child.Exited)
        {
            exit = await child.Exited.ConfigureAwait(false);
            reason = "exited";
            if (exit.Signal == Signals.SIGKILL && child.Cgroup?.OomKills() > oomBefore)
            {
                long? limit = spec.Isolation.Resources.MemoryMax;
                failure = new RunFailure($"oom: killed by the kernel's OOM killer{(limit is long l ? $" at memory_max {l / (1024 * 1024)} MiB" : "")}", false);
                reason = failure.Reason;
                this.EventOom(child.Pid, limit);
            }
        }
        else
        {
            byUser = first == stopRequested;
            if (first == failRun.Task) failure = failRun.Task.Result;
            else if (!byUser) inPlace = restartRequest.Task.Result;
            Transit(new StopBegins(child.Pid, byUser ? "stop requested" : failure?.Reason ?? inPlace!));
            exit = await run.StopAsync(spec).ConfigureAwait(false);
            reason = byUser ? "stopped" : failure?.Reason ?? inPlace!;
        }
        TimeSpan uptime = run.Uptime;
        lock (_gate) { _health = null; _failRun = null; _dotnet = null; }
        long dropped = await run.CloseAsync().ConfigureAwait(false);
        _app.DescriptorStore?.Forget($"out.{Id}");
        _app.DescriptorStore?.Forget($"err.{Id}");
        lock (_gate)
        {
            _droppedBefore += dropped;
            _outLog = null;
            _errLog = null;
        }

        Transit(new ProcessExited(child.Pid, exit, uptime, reason, byUser), () => RecordExitLocked(child.Pid, exit, uptime, reason));
        return new RunOutcome(exit, uptime, byUser, inPlace, failure);
    }

    /// <summary>A start that failed before the instance ran (spawn, or what it needs around it): a run of
    /// length zero, so the crash-loop guard and backoff apply.</summary>
    private RunOutcome FailedStart(string why)
    {
        _published.Set();
        var failed = new ExitStatus(127, null);
        Transit(new SpawnFailed(why), () => RecordExitLocked(0, failed, TimeSpan.Zero, "spawn failed: " + why));
        _launched.TrySetResult();
        return new RunOutcome(failed, TimeSpan.Zero, false, null);
    }

    private void RecordExitLocked(int pid, ExitStatus exit, TimeSpan uptime, string reason)
    {
        _lastExit = exit;
        _pid = null;
        _child = null;
        _restartRequest = null;
        _cpuPercent = 0;
        _memoryBytes = 0;
        _dotnet = null;
        _recentExits.Enqueue(new InstanceExit(_time.GetUtcNow(), pid, exit, uptime, reason));
        while (_recentExits.Count > RecentExitsKept) _recentExits.Dequeue();
    }

    /// <summary>
    /// The one way the lifecycle moves: <see cref="InstanceLifecycle.Next"/> under the lock, together
    /// with the fields that must change with it (<paramref name="alongside"/>), then the transition is
    /// published once, outside the lock, to the app's observers (daemon log, events, metrics, the
    /// change feed that proxy backends, state saves, rollouts and depends_on follow). An input that
    /// means nothing in the current state changes and publishes nothing.
    /// </summary>
    private void Transit(LifeInput input, Action? alongside = null, ManualResetEventSlim? published = null)
    {
        InstanceTransition transition;
        lock (_gate)
        {
            if (InstanceLifecycle.Next(_life, input) is not LifeState next) return;
            transition = new InstanceTransition(Name, Number, _life, next, input);
            _life = next;
            alongside?.Invoke();
        }
        published?.Set();
        _app.OnTransition(this, transition);
    }


    /// <summary>Waits until <paramref name="delay"/> after <paramref name="from"/>: a backoff counts from the exit it
    /// follows, not from the moment its timer was set (the clock may have moved on in between).</summary>
    private Task WaitFromAsync(DateTimeOffset from, TimeSpan delay, CancellationToken stop)
    {
        TimeSpan left = from + delay - _time.GetUtcNow();
        if (left > TimeSpan.Zero) return Task.Delay(left, _time, stop);
        stop.ThrowIfCancellationRequested();
        return Task.CompletedTask;
    }

    /// <summary>`tend reloadLogs`: the live writers open their files again (a stopped instance has none open).</summary>
    public void ReopenLogs()
    {
        LogWriter? outLog, errLog;
        lock (_gate) { outLog = _outLog; errLog = _errLog; }
        outLog?.Reopen();
        errLog?.Reopen();
    }

    /// <summary>`tend flush`: empty the log files, through the live writer when there is one.</summary>
    public void FlushLogs()
    {
        LogWriter? outLog, errLog;
        lock (_gate) { outLog = _outLog; errLog = _errLog; }
        if (outLog is not null) outLog.Truncate(); else LogWriter.TruncateFiles(OutLogPath);
        if (errLog is not null) errLog.Truncate(); else LogWriter.TruncateFiles(ErrLogPath);
    }

    /// <summary>
    /// The instance's NOTIFY_SOCKET, made on its first run and kept across runs (an app's children
    /// may hold on to the path). A datagram counts only if it comes from the live child's process
    /// group: the old run's leftovers and unrelated processes are ignored and counted.
    /// </summary>
    private string? EnsureNotifyEndpoint()
    {
        if (_notify is not null) return _notify.Path;
        if (_app.NotifyHub is not { } hub) return null;
        string name = $"{Id}.{Interlocked.Increment(ref s_notifyGeneration)}";
        _notify = hub().Register(name, IsOwnProcess, OnNotify, anyUser: Spec.Isolation.Uid is not null || Spec.Isolation.Gid is not null);
        _app.DescriptorStore?.Keep($"notify.{Id}", _notify.Socket.Handle);
        return _notify.Path;
    }

    private bool IsOwnProcess(int pid)
    {
        _published.Wait(TimeSpan.FromSeconds(5));
        int? leader;
        lock (_gate) leader = _pid;
        return leader is int main && (pid == main || ProcStat.ReadProcessGroup(pid) == main);
    }

    private void OnNotify(NotifyMessage message)
    {
        InstanceHealth? health;
        lock (_gate) health = _health;
        health?.OnNotify(message);
    }

    /// <summary>The app is deleted: close the notify socket.</summary>
    internal void Release()
    {
        if (_notify is not null) _app.DescriptorStore?.Forget($"notify.{Id}");
        _notify?.Dispose();
        _notify = null;
        // Stopped by now: its cgroup is empty and goes with it (one still populated is left alone).
        Cgroup?.Remove();
    }

    /// <summary>This instance's cgroup, made at its first start and kept across its restarts (so a
    /// restart does not pay for removing and creating it); removed with the instance.</summary>
    internal Isolation.InstanceCgroup? Cgroup { get; set; }

    void IHealthSink.OnReadyChanged(bool ready, string why) => Transit(new ReadinessChanged(ready, why));

    void IHealthSink.OnStatusText(string text)
    {
        bool log;
        lock (_gate)
        {
            if (text == _statusText) return; // a repeat changes nothing and is not logged
            _statusText = text;
            // At most one line a second per instance: an app that sends STATUS= in a loop wrote
            // 55 MB of daemon.log in 10 s. What `list` and `describe` show is always the latest.
            long now = _time.GetTimestamp();
            log = _lastStatusLogged == 0 || _time.GetElapsedTime(_lastStatusLogged, now) >= TimeSpan.FromSeconds(1);
            if (log) _lastStatusLogged = now;
        }
        if (log) EngineLog.StatusText(_logger, Name, Number, text);
        _app.Changed();
    }

    void IHealthSink.OnStopping() => Transit(new AppReportsStopping());

    void IHealthSink.OnHealthFailure(RunFailure failure)
    {
        if (_handingOver) return; // the next daemon checks again
        TaskCompletionSource<RunFailure>? failRun;
        lock (_gate) failRun = _failRun;
        if (failRun?.TrySetResult(failure) == true) this.EventHealthFailed(null, failure.Reason);
    }

    void IHealthSink.OnProbeFailed(string role, string check, string? detail) => this.EventProbeFailed(null, role, check, detail);
}
