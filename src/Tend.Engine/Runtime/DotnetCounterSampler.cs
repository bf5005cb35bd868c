using Microsoft.Extensions.Logging;

namespace Tend.Runtime;

/// <summary>
/// Shared by every instance of a daemon: the options and the bound on concurrent sessions. An
/// instance calls <see cref="Watch"/> once per run, right after the spawn, and disposes what it gets
/// when the run ends.
/// </summary>
public sealed class DotnetCounterWatcher
{
    private readonly SemaphoreSlim _slots;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    public DotnetCounterWatcher(DotnetCounterOptions options, TimeProvider time, ILogger logger)
    {
        Options = options;
        _time = time;
        _logger = logger;
        _slots = new SemaphoreSlim(options.MaxSessions, options.MaxSessions);
    }

    public DotnetCounterOptions Options { get; }

    /// <summary>Sessions running now (for tests and the docs' cost figures).</summary>
    public int ActiveSessions => Options.MaxSessions - _slots.CurrentCount;

    /// <summary>Starts watching one run of an instance; <paramref name="publish"/> gets every new snapshot.</summary>
    public DotnetCounterSampler Watch(string label, int pid, ulong startTime, Action<DotnetCounters> publish)
    {
        var sampler = new DotnetCounterSampler(this, label, pid, startTime, publish);
        sampler.Start();
        return sampler;
    }

    internal SemaphoreSlim Slots => _slots;
    internal TimeProvider Time => _time;
    internal ILogger Logger => _logger;
}

/// <summary>
/// One run of one instance: look for the diagnostic socket a few times while the runtime starts
/// (<see cref="DotnetCounterOptions.LookAfter"/>), then hold one counter session for as long as the
/// run lasts, starting a new one with backoff if it breaks. The totals live here, not in the
/// session, so they keep growing across a reconnect. Everything is best effort: no failure here
/// reaches the instance, and disposing ends the session within a bounded time.
/// </summary>
public sealed class DotnetCounterSampler : IAsyncDisposable
{
    private static readonly TimeSpan s_disposeTimeout = TimeSpan.FromSeconds(5);

    private readonly DotnetCounterWatcher _owner;
    private readonly string _label;
    private readonly int _pid;
    private readonly ulong _startTime;
    private readonly Action<DotnetCounters> _publish;
    private readonly CancellationTokenSource _stop = new();
    private readonly DotnetCounterAccumulator _counters = new();
    private Task _loop = Task.CompletedTask;

    internal DotnetCounterSampler(DotnetCounterWatcher owner, string label, int pid, ulong startTime, Action<DotnetCounters> publish)
    {
        _owner = owner;
        _label = label;
        _pid = pid;
        _startTime = startTime;
        _publish = publish;
    }

    /// <summary>The diagnostic socket once found; null while looking, or for a process that has none.</summary>
    public string? Socket { get; private set; }

    /// <summary>Ends when the sampler is done with this run: no socket found, the process gone, or disposed.</summary>
    internal Task Completion => _loop;

    internal void Start() => _loop = Task.Run(() => RunAsync(_stop.Token));

    private async Task RunAsync(CancellationToken stop)
    {
        try
        {
            string? socket = await FindSocketAsync(stop).ConfigureAwait(false);
            if (socket is null) return;
            Socket = socket;
            TimeSpan backoff = _owner.Options.RetryAfter;
            while (!stop.IsCancellationRequested)
            {
                if (!_owner.Slots.Wait(0))
                {
                    RuntimeLog.WaitingForSlot(_owner.Logger, _label, _pid, _owner.Options.MaxSessions);
                    await _owner.Slots.WaitAsync(stop).ConfigureAwait(false);
                }
                string? failure;
                try { failure = await RunSessionAsync(socket, stop).ConfigureAwait(false); }
                finally { _owner.Slots.Release(); }
                if (stop.IsCancellationRequested) return;
                // The stream ended: usually because the process is exiting (its runtime removes the
                // socket) or gone; then there is nothing left to watch in this run. If it lives on,
                // something broke: try again, less and less often.
                if (!File.Exists(socket) || Processes.ProcStat.ReadStartTime(_pid) != _startTime) return;
                // A clean end while the process is still there is most often its shutdown racing
                // these checks: not worth a warning. A failure is.
                if (failure is null) RuntimeLog.SessionEnded(_owner.Logger, _label, _pid, (long)backoff.TotalMilliseconds);
                else RuntimeLog.SessionFailed(_owner.Logger, _label, _pid, failure, (long)backoff.TotalMilliseconds);
                await Task.Delay(backoff, _owner.Time, stop).ConfigureAwait(false);
                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, _owner.Options.MaxRetryAfter.Ticks));
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested) { }
    }

    private async Task<string?> FindSocketAsync(CancellationToken stop)
    {
        long started = _owner.Time.GetTimestamp();
        IReadOnlyList<TimeSpan> looks = _owner.Options.LookAfter;
        foreach (TimeSpan at in looks)
        {
            TimeSpan wait = at - _owner.Time.GetElapsedTime(started);
            if (wait > TimeSpan.Zero) await Task.Delay(wait, _owner.Time, stop).ConfigureAwait(false);
            if (DiagnosticSocket.Find(_pid, _startTime) is string socket)
            {
                RuntimeLog.Watching(_owner.Logger, _label, _pid, socket);
                return socket;
            }
        }
        RuntimeLog.NotDotnet(_owner.Logger, _label, _pid, looks.Count);
        return null;
    }

    /// <summary>One session until its stream ends or we are stopped; returns why it failed, or null when it just ended.</summary>
    private async Task<string?> RunSessionAsync(string socket, CancellationToken stop)
    {
        DotnetCounterSession session;
        try
        {
            session = await DotnetCounterSession.StartAsync(socket, _owner.Options.Interval, OnCounter, stop).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested) { return null; }
        catch (Exception ex) { return ex.Message; }
        await using (session.ConfigureAwait(false))
        {
            try
            {
                await session.Completion.WaitAsync(stop).ConfigureAwait(false);
                return null;
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested) { return null; }
            catch (Exception ex) { return ex.Message; }
        }
    }

    // On the session's reading thread; one session at a time feeds the accumulator.
    private void OnCounter(IDictionary<string, object> payload)
    {
        if (_counters.Apply(payload)) _publish(_counters.Snapshot(_owner.Time.GetUtcNow()));
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        try { await _loop.WaitAsync(s_disposeTimeout).ConfigureAwait(false); }
        catch (TimeoutException) { /* a session that would not stop: its thread ends when the process does */ }
        _stop.Dispose();
    }
}
