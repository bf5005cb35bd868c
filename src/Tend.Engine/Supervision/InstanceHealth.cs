using Microsoft.Extensions.Logging;
using Tend.Config;
using Tend.Health;
using Tend.Logs;

namespace Tend.Supervision;

/// <summary>
/// Readiness, liveness, the watchdog and the ready timeout of one run of an instance. Created
/// when the child is spawned and disposed when it has exited, so nothing of one run leaks into
/// the next: a probe result, a late READY=1 or a watchdog deadline always belongs to this pid.
///
/// Decisions go back to the instance through <see cref="IHealthSink"/>: readiness flips are
/// published (never a restart: a ready instance that stops answering is taken out of rotation,
/// as Kubernetes does), while a missed watchdog, a failed liveness probe or a ready timeout ends
/// the run as a failure, so the restart policy, the crash-loop guard and the supervisor decide
/// what happens next, exactly as for a crash.
///
/// The watchdog and the liveness probe start when the instance first becomes ready (at spawn for
/// an app without ready:): systemd likewise starts WatchdogSec once start-up has finished, and
/// Kubernetes holds liveness back until the startup probe passed. A slow warm-up is bounded by
/// ready_timeout, not killed by a liveness probe against a port that is not open yet.
/// </summary>
internal sealed class InstanceHealth : IAsyncDisposable
{
    private readonly AppSpec _spec;
    private readonly string _label;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly IHealthSink _sink;
    private readonly Lock _gate = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _feeds = [];

    private ProbeRunner? _readyRunner;
    private ProbeRunner? _liveRunner;
    private LogProbe? _readyLog;
    private LogProbe? _liveLog;
    private ITimer? _readyTimer;
    private ITimer? _watchdogTimer;
    private TimeSpan? _watchdogPeriod;
    private long _readyDeadline; // timestamp; for EXTEND_TIMEOUT_USEC
    private bool _ready;
    private bool _failed;
    private bool _disposed;
    private bool _liveStarted;
    private DateTimeOffset? _lastWatchdogAt;
    private bool _notified; // any datagram of this run reached NOTIFY_SOCKET
    private bool _messaged; // any message of this run came over Node's IPC channel

    public InstanceHealth(AppSpec spec, string label, ProbeContext context, TimeProvider time, ILogger logger, IHealthSink sink,
        Metrics.InstanceMetrics? metrics = null)
    {
        spec = WithInstanceTargets(spec, context);
        _spec = spec;
        _label = label;
        _time = time;
        _logger = logger;
        _sink = sink;
        _watchdogPeriod = spec.Watchdog;

        if (spec.Ready?.Probe is { } readyProbe)
        {
            IProbe probe = Probes.Create(readyProbe, context, sticky: true);
            _readyLog = probe as LogProbe;
            _readyRunner = new ProbeRunner(readyProbe, probe, time, initiallyPassing: false, OnReadyProbe) { FastUntilFirstPass = true, Observer = metrics is null ? null : metrics.Ready.Observe };
        }
        if (spec.Live is { } liveProbe)
        {
            IProbe probe = Probes.Create(liveProbe, context, sticky: false);
            _liveLog = probe as LogProbe;
            _liveRunner = new ProbeRunner(liveProbe, probe, time, initiallyPassing: true, OnLiveProbe) { Observer = metrics is null ? null : metrics.Live.Observe };
        }
    }

    /// <summary>The app's probes as this instance checks them: `${NAME}` in http and tcp targets
    /// replaced from its environment (its own port), so describe shows what was really asked.</summary>
    private static AppSpec WithInstanceTargets(AppSpec spec, ProbeContext context)
    {
        ProbeSpec? Expand(ProbeSpec? p) =>
            p is { Kind: ProbeKind.Http or ProbeKind.Tcp } && ProbeTarget.HasVariables(p.Target)
                ? p with { Target = ProbeTarget.Expand(p.Target, context.Environment) }
                : p;
        if (spec.Ready?.Probe is { } ready && Expand(ready) is { } r && !ReferenceEquals(r, ready)) spec = spec with { Ready = spec.Ready with { Probe = r } };
        if (spec.Live is { } live && Expand(live) is { } l && !ReferenceEquals(l, live)) spec = spec with { Live = l };
        return spec;
    }

    /// <summary>True when the instance is ready the moment it is spawned (no ready: setting).</summary>
    public bool ReadyOnSpawn => _spec.Ready is null;

    /// <summary>Begin checking. <paramref name="outLog"/> and <paramref name="errLog"/> feed log probes.</summary>
    /// <param name="alreadyReady">A process adopted from the previous daemon that was ready there: it is
    /// ready now, without waiting for a READY=1 it sent long ago or a first probe pass.</param>
    public void Start(LogWriter outLog, LogWriter errLog, bool alreadyReady = false)
    {
        if (_readyLog is not null || _liveLog is not null)
        {
            _feeds.Add(FeedAsync(outLog));
            _feeds.Add(FeedAsync(errLog));
        }
        lock (_gate)
        {
            if (_spec.Ready is not null && alreadyReady)
            {
                _ready = true;
                ArmWatchdogLocked();
            }
            else if (_spec.Ready is { } ready)
            {
                if (ready.Timeout != Timeout.InfiniteTimeSpan)
                {
                    _readyDeadline = _time.GetTimestamp() + (long)(ready.Timeout.TotalSeconds * _time.TimestampFrequency);
                    _readyTimer = _time.CreateTimer(_ => OnReadyTimeout(), null, ready.Timeout, Timeout.InfiniteTimeSpan);
                }
            }
            else
            {
                _ready = true;
                ArmWatchdogLocked();
            }
        }
        if (!alreadyReady) _readyRunner?.Start();
        if (_spec.Ready is null || alreadyReady) StartLiveness();
    }

    private void StartLiveness()
    {
        lock (_gate)
        {
            if (_liveStarted || _disposed) return;
            _liveStarted = true;
        }
        _liveRunner?.Start();
    }

    /// <summary>A datagram from the instance's NOTIFY_SOCKET, already checked to come from its process group.</summary>
    public void OnNotify(NotifyMessage message)
    {
        Volatile.Write(ref _notified, true);
        if (message.Status is { } status) _sink.OnStatusText(status);
        if (message.WatchdogUsec is { } period && period > TimeSpan.Zero)
        {
            lock (_gate) { _watchdogPeriod = period; if (_watchdogTimer is not null) ArmWatchdogLocked(); }
        }
        if (message.Watchdog)
        {
            lock (_gate)
            {
                _lastWatchdogAt = _time.GetUtcNow();
                if (_watchdogTimer is not null) ArmWatchdogLocked();
            }
        }
        if (message.WatchdogTrigger) Fail("watchdog: the app asked for it (WATCHDOG=trigger)", failedStart: false);
        if (message.ExtendTimeout is { } extend) ExtendReadyTimeout(extend);
        if (_spec.Ready?.Notify == true)
        {
            if (message.Reloading) SetReady(false, "reloading (RELOADING=1)");
            if (message.Ready) SetReady(true, "READY=1");
        }
        if (message.Stopping) _sink.OnStopping();
    }

    /// <summary>A message from the app over Node's IPC channel: <c>process.send('ready')</c> marks it ready
    /// when ready: { message: ready } says so (PM2's wait_ready).</summary>
    public void OnAppMessage(NodeMessage message)
    {
        Volatile.Write(ref _messaged, true);
        if (_spec.Ready?.Message is { } expected && message.Text == expected)
            SetReady(true, $"process.send('{expected}')");
    }

    /// <summary>What describe shows: the probes' last results, their recent checks, and the watchdog.</summary>
    public IReadOnlyList<ProbeState> Describe()
    {
        var probes = new List<ProbeState>(2);
        if (_readyRunner is not null) probes.Add(Describe("ready", _spec.Ready!.Probe!, _readyRunner));
        if (_liveRunner is not null) probes.Add(Describe("live", _spec.Live!, _liveRunner));
        return probes;
    }

    public DateTimeOffset? LastWatchdogAt { get { lock (_gate) return _lastWatchdogAt; } }

    private static ProbeState Describe(string role, ProbeSpec spec, ProbeRunner runner) =>
        new(role, spec, runner.Passing, runner.LastAt, runner.Last, runner.ConsecutiveFailures, runner.Checks, runner.Failures, runner.Recent());

    private void OnReadyProbe(ProbeRunner runner, bool passing)
    {
        if (!passing) _sink.OnProbeFailed("ready", _spec.Ready!.Probe!.Describe(), runner.Last?.Detail);
        SetReady(passing, passing ? $"{_spec.Ready!.Probe!.Describe()} passed" : $"{_spec.Ready!.Probe!.Describe()} failing: {runner.Last?.Detail}");
    }

    private void OnLiveProbe(ProbeRunner runner, bool passing)
    {
        if (passing) return;
        _sink.OnProbeFailed("live", _spec.Live!.Describe(), runner.Last?.Detail);
        Fail($"liveness: {_spec.Live!.Describe()} failed {runner.ConsecutiveFailures} times in a row: {runner.Last?.Detail}", failedStart: false);
    }

    private void SetReady(bool ready, string why)
    {
        lock (_gate)
        {
            if (_disposed || _failed || _ready == ready) return;
            _ready = ready;
            if (ready)
            {
                _readyTimer?.Dispose();
                _readyTimer = null;
                if (_watchdogTimer is null) ArmWatchdogLocked();
            }
        }
        if (ready)
        {
            EngineLog.BecameReady(_logger, _label, why);
            StartLiveness();
        }
        else EngineLog.BecameUnready(_logger, _label, why);
        _sink.OnReadyChanged(ready, why);
    }

    private void OnReadyTimeout()
    {
        string timeout;
        lock (_gate)
        {
            if (_ready || _disposed) return;
            // An EXTEND_TIMEOUT_USEC may have moved the deadline since this timer was set.
            long now = _time.GetTimestamp();
            if (now < _readyDeadline)
            {
                _readyTimer?.Change(TimeSpan.FromSeconds((double)(_readyDeadline - now) / _time.TimestampFrequency), Timeout.InfiniteTimeSpan);
                return;
            }
            timeout = Units.FormatDuration(_spec.Ready!.Timeout);
        }
        // The commonest cause by far: an app that never learned it runs under a notify manager
        // (Microsoft's UseSystemd() only acts when its parent is systemd). Say so, and where to read.
        string why = _spec.Ready!.Notify && !Volatile.Read(ref _notified)
            ? "; the app never sent anything on NOTIFY_SOCKET (a .NET app needs Tend.Hosting's AddTend(), or SystemdNotifier registered by hand: UseSystemd() does nothing outside systemd; see docs/health.md#net-apps)"
            : _spec.Ready.Message is { } expected
                ? (Volatile.Read(ref _messaged) ? $"; the app sent messages over Node's IPC channel, but not '{expected}'" : $"; the app never called process.send('{expected}')")
                : "";
        Fail($"ready_timeout: not ready within {timeout}{why}", failedStart: true);
    }

    /// <summary>EXTEND_TIMEOUT_USEC: as in systemd, the deadline becomes now + the value if that is later.</summary>
    private void ExtendReadyTimeout(TimeSpan extend)
    {
        lock (_gate)
        {
            if (_ready || _readyTimer is null) return;
            long candidate = _time.GetTimestamp() + (long)(extend.TotalSeconds * _time.TimestampFrequency);
            if (candidate <= _readyDeadline) return;
            _readyDeadline = candidate;
            _readyTimer.Change(extend, Timeout.InfiniteTimeSpan);
        }
    }

    private void ArmWatchdogLocked()
    {
        if (_watchdogPeriod is not TimeSpan period || _disposed) return;
        if (_watchdogTimer is null) _watchdogTimer = _time.CreateTimer(_ => OnWatchdogMissed(), null, period, Timeout.InfiniteTimeSpan);
        else _watchdogTimer.Change(period, Timeout.InfiniteTimeSpan);
    }

    private void OnWatchdogMissed()
    {
        TimeSpan? period;
        lock (_gate) period = _watchdogPeriod;
        Fail($"watchdog: no WATCHDOG=1 within {Units.FormatDuration(period ?? TimeSpan.Zero)}", failedStart: false);
    }

    private void Fail(string reason, bool failedStart)
    {
        lock (_gate)
        {
            if (_failed || _disposed) return;
            _failed = true;
        }
        EngineLog.HealthFailed(_logger, _label, reason);
        _sink.OnHealthFailure(new RunFailure(reason, failedStart));
    }

    private async Task FeedAsync(LogWriter writer)
    {
        await foreach (LogLine line in writer.SubscribeAsync(_stop.Token).ConfigureAwait(false))
        {
            _readyLog?.OnLine(line.Text);
            _liveLog?.OnLine(line.Text);
        }
    }

    public async ValueTask DisposeAsync()
    {
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            _readyTimer?.Dispose();
            _watchdogTimer?.Dispose();
        }
        _stop.Cancel();
        if (_readyRunner is not null) await _readyRunner.DisposeAsync().ConfigureAwait(false);
        if (_liveRunner is not null) await _liveRunner.DisposeAsync().ConfigureAwait(false);
        try { await Task.WhenAll(_feeds).ConfigureAwait(false); }
        catch (OperationCanceledException) { }
        _stop.Dispose();
    }
}

/// <summary>What <see cref="InstanceHealth"/> tells its instance.</summary>
internal interface IHealthSink
{
    void OnReadyChanged(bool ready, string why);
    void OnStatusText(string text);
    void OnStopping();
    void OnHealthFailure(RunFailure failure);
    /// <summary>A probe went from passing to failing (its failure threshold reached), not every failed check.</summary>
    void OnProbeFailed(string role, string check, string? detail);
}
