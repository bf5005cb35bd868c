using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Tend.Config;

namespace Tend.Health;

/// <summary>
/// Runs one probe on its schedule and turns results into a passing/failing state with Kubernetes'
/// thresholds: the first check after <see cref="ProbeSpec.InitialDelay"/>, then one every
/// <see cref="ProbeSpec.Interval"/> counted from the start of the previous check (a slow check does
/// not stretch the period, and one check never overlaps the next); <see cref="Passing"/> flips after
/// <see cref="ProbeSpec.FailureThreshold"/> failures or <see cref="ProbeSpec.SuccessThreshold"/>
/// successes in a row.
/// </summary>
/// <remarks>
/// Every wait goes through the injected <see cref="TimeProvider"/>. The state-change callback runs on the
/// runner's loop, one call at a time, only on a flip, and never once <see cref="DisposeAsync"/> has
/// returned. It must not block: to react by disposing this runner, start the disposal without waiting.
/// </remarks>
public sealed partial class ProbeRunner : IAsyncDisposable
{
    /// <summary>Readiness cadence before the first pass: an app that becomes ready is noticed within
    /// this, even with Kubernetes' default 10s interval.</summary>
    public static readonly TimeSpan FastInterval = TimeSpan.FromMilliseconds(500);

    /// <summary>How long past its timeout a check may take to clean up (an exec probe killing its
    /// command) before the runner stops waiting for it and counts a timeout.</summary>
    public static readonly TimeSpan AbandonGrace = TimeSpan.FromSeconds(1);

    private readonly ProbeSpec _spec;
    private readonly IProbe _probe;
    private readonly TimeProvider _time;
    private readonly Action<ProbeRunner, bool> _onStateChanged;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _gate = new();
    private readonly ProbeHistory _history = new();
    private Task? _loop;
    private Task? _abandoned;
    private int _disposed;
    private volatile bool _passing;
    private volatile bool _everPassed;
    private ProbeResult? _last;
    private DateTimeOffset? _lastAt;
    private int _consecutiveFailures;
    private int _consecutiveSuccesses;
    private long _checks;
    private long _failures;

    public ProbeRunner(ProbeSpec spec, IProbe probe, TimeProvider time, bool initiallyPassing, Action<ProbeRunner, bool> onStateChanged)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(probe);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(onStateChanged);
        _spec = spec;
        _probe = probe;
        _time = time;
        _onStateChanged = onStateChanged;
        _passing = initiallyPassing;
        _everPassed = initiallyPassing;
    }

    /// <summary>Until the state first flips to passing, check every min(<see cref="ProbeSpec.Interval"/>,
    /// <see cref="FastInterval"/>). For readiness.</summary>
    public bool FastUntilFirstPass { get; init; }

    /// <summary>Hears every check's result (metrics), on the runner's loop; must be quick and must not throw.</summary>
    public Action<ProbeResult>? Observer { get; init; }

    /// <summary>Where a throwing state-change callback is reported.</summary>
    public ILogger Logger { get; init; } = NullLogger.Instance;

    public ProbeSpec Spec => _spec;

    public bool Passing => _passing;

    public ProbeResult? Last { get { lock (_gate) return _last; } }
    public DateTimeOffset? LastAt { get { lock (_gate) return _lastAt; } }
    public int ConsecutiveFailures { get { lock (_gate) return _consecutiveFailures; } }
    public int ConsecutiveSuccesses { get { lock (_gate) return _consecutiveSuccesses; } }
    public long Checks { get { lock (_gate) return _checks; } }
    public long Failures { get { lock (_gate) return _failures; } }

    /// <summary>The last <see cref="ProbeHistory.DefaultCapacity"/> checks of this runner, oldest first.</summary>
    public ProbeCheckEntry[] Recent() { lock (_gate) return _history.Snapshot(); }

    /// <summary>Starts the loop. Once only.</summary>
    public void Start()
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        CancellationToken stopping = _stopping.Token;
        if (Interlocked.CompareExchange(ref _loop, Task.Run(() => RunAsync(stopping), CancellationToken.None), null) is not null)
            throw new InvalidOperationException("the probe runner has already started");
    }

    /// <summary>Stops the loop, waits for it (and so for any callback in progress), then disposes the probe.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        await _stopping.CancelAsync().ConfigureAwait(false);
        Task? loop = Interlocked.CompareExchange(ref _loop, Task.CompletedTask, null);
        if (loop is not null) await loop.ConfigureAwait(false);
        _stopping.Dispose();
        // A check abandoned after ignoring its timeout is not waited for (it may never end); it saw the
        // cancellation, and a probe that holds resources releases them itself when it does end.
        await _probe.DisposeAsync().ConfigureAwait(false);
    }

    public override string ToString() => _spec.Describe();

    private async Task RunAsync(CancellationToken stopping)
    {
        try
        {
            if (_spec.InitialDelay > TimeSpan.Zero) await Task.Delay(_spec.InitialDelay, _time, stopping).ConfigureAwait(false);
            while (true)
            {
                long started = _time.GetTimestamp();
                ProbeResult result = await CheckOnceAsync(stopping).ConfigureAwait(false);
                stopping.ThrowIfCancellationRequested();
                Record(result);

                TimeSpan period = !_everPassed && FastUntilFirstPass && _spec.Interval > FastInterval ? FastInterval : _spec.Interval;
                TimeSpan wait = period - _time.GetElapsedTime(started);
                if (wait > TimeSpan.Zero) await Task.Delay(wait, _time, stopping).ConfigureAwait(false);
                else await Task.Yield(); // a timeout longer than the interval: check again at once, but never spin inline
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
    }

    /// <summary>One check, bounded by the spec's timeout; every outcome but our own stopping is a result.</summary>
    private async Task<ProbeResult> CheckOnceAsync(CancellationToken stopping)
    {
        long started = _time.GetTimestamp();
        if (_abandoned is { IsCompleted: false })
            return new ProbeResult(false, TimeSpan.Zero, "previous check still running");
        _abandoned = null;

        using var deadline = new CancellationTokenSource(_spec.Timeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(stopping, deadline.Token);
        Task<ProbeResult> check;
        try
        {
            check = _probe.CheckAsync(linked.Token);
        }
        catch (Exception e) when (e is not OperationCanceledException || !stopping.IsCancellationRequested)
        {
            return Failed(e, started);
        }
        try
        {
            // The probe is asked to stop at the timeout; WaitAsync covers one that does not listen.
            return check.IsCompleted
                ? await check.ConfigureAwait(false)
                : await check.WaitAsync(_spec.Timeout + AbandonGrace, _time, stopping).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception e) when (e is OperationCanceledException or TimeoutException)
        {
            if (!check.IsCompleted)
            {
                _abandoned = check;
                // Whatever it ends with is no longer anyone's business, but must not go unobserved.
                _ = check.ContinueWith(static t => _ = t.Exception, CancellationToken.None,
                    TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            }
            return ProbeText.TimedOut(_spec.Timeout, _time.GetElapsedTime(started));
        }
        catch (Exception e)
        {
            return Failed(e, started);
        }
    }

    private ProbeResult Failed(Exception e, long started) =>
        new(false, _time.GetElapsedTime(started), ProbeText.Line(e.Message) is { Length: > 0 } line ? line : e.GetType().Name);

    private void Record(ProbeResult result)
    {
        bool flipped;
        bool passing;
        lock (_gate)
        {
            _last = result;
            _lastAt = _time.GetUtcNow();
            _history.Add(_lastAt.Value, result);
            _checks++;
            if (result.Success)
            {
                _consecutiveSuccesses++;
                _consecutiveFailures = 0;
                flipped = !_passing && _consecutiveSuccesses >= _spec.SuccessThreshold;
            }
            else
            {
                _failures++;
                _consecutiveFailures++;
                _consecutiveSuccesses = 0;
                flipped = _passing && _consecutiveFailures >= _spec.FailureThreshold;
            }
            if (flipped)
            {
                _passing = !_passing;
                if (_passing) _everPassed = true;
            }
            passing = _passing;
        }
        Observer?.Invoke(result);
        if (!flipped) return;
        try
        {
            _onStateChanged(this, passing);
        }
        catch (Exception e)
        {
            LogCallbackFailed(Logger, _spec.Describe(), e);
        }
    }

    [LoggerMessage(6001, LogLevel.Error, "probe {Probe}: state-change handler failed")]
    private static partial void LogCallbackFailed(ILogger logger, string probe, Exception error);
}
