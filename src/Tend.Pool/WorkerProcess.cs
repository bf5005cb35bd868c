using System.Collections;
using System.Collections.Concurrent;
using System.Globalization;
using System.Net.Sockets;
using System.Text.Json;
using Tend.Io;
using Tend.Pool.Worker;
using Tend.Processes;

namespace Tend.Pool;

/// <summary>Where a worker is in its life.</summary>
internal enum WorkerState { Starting, Standby, Active, Retiring, Stopping, Gone }

/// <summary>
/// One worker process and its channel: sends tasks, pings, cancellations and the stop request, reads
/// the answers, and fails what it was running if it dies. Which worker gets which task, and when a
/// worker is replaced, is <see cref="ProcessPool"/>'s business.
/// </summary>
internal sealed class WorkerProcess
{
    /// <summary>Variables of the app's own that a worker must not see: they would make it speak for the app.</summary>
    private static readonly string[] s_appOnly =
        ["NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES",
         "NODE_CHANNEL_FD", "NODE_CHANNEL_SERIALIZATION_MODE", PoolFrames.FdVariable];

    private readonly ChildProcess _child;
    private readonly NetworkStream _stream;
    private readonly SemaphoreSlim _write = new(1, 1);
    private readonly ConcurrentDictionary<long, TaskCompletionSource<JsonDocument>> _pending = new();
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly PipeDrain? _stdout, _stderr;
    private readonly TimeProvider _time;
    private long _nextId;
    private long _pingId;
    private long _pingSentAt;
    private int _reserved;
    private long _done;
    private volatile string? _lossReason;
    private Task _outputEnded = Task.CompletedTask;

    private WorkerProcess(int id, WorkerSpec spec, ChildProcess child, TimeProvider time, int taskLimit, TimeSpan? ageLimit, PipeDrain? stdout, PipeDrain? stderr)
    {
        Id = id;
        Spec = spec;
        _child = child;
        _time = time;
        TaskLimit = taskLimit;
        AgeLimit = ageLimit;
        _stdout = stdout;
        _stderr = stderr;
        StartedAt = time.GetTimestamp();
        _stream = new NetworkStream(new Socket(child.Channel!), ownsSocket: true);
        Exited = WatchExitAsync();
    }

    public int Id { get; }
    public int Pid => _child.Pid;
    public WorkerSpec Spec { get; }
    public volatile WorkerState State;
    public long StartedAt { get; }
    /// <summary>MaxTasks with this worker's jitter; int.MaxValue without a limit.</summary>
    public int TaskLimit { get; }
    public TimeSpan? AgeLimit { get; }
    public long? BaselineRss { get; private set; }
    public long? LastRss { get; set; }
    public long TasksDone => Interlocked.Read(ref _done);
    /// <summary>The pool is stopping it on purpose: its end is not a loss.</summary>
    public bool Recycling { get; set; }
    /// <summary>It said it was ready once; a worker that dies before that is a failed start, not a loss.</summary>
    public bool WasReady { get; set; }
    /// <summary>Cancelled when the worker must take no more tasks (retiring, lost, stopping).</summary>
    public CancellationTokenSource StopTaking { get; } = new();
    /// <summary>Set when the worker has been handed its last task under MaxTasks.</summary>
    public TaskCompletionSource LastTaskTaken { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    /// <summary>Its slot loops; all done once it has finished every task it took.</summary>
    public List<Task> Slots { get; } = [];
    public Task Ready => _ready.Task;
    /// <summary>Completes when the process is gone, with what the pool should report.</summary>
    public Task<ExitStatus> Exited { get; }
    public TimeSpan Age => _time.GetElapsedTime(StartedAt);

    public static WorkerProcess Start(int id, WorkerSpec spec, PoolOptions options, Func<string, bool, WorkerOutput> output, int taskLimit, TimeSpan? ageLimit)
    {
        var environment = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (DictionaryEntry e in System.Environment.GetEnvironmentVariables()) environment[(string)e.Key] = (string?)e.Value ?? "";
        foreach (string name in s_appOnly) environment.Remove(name);
        foreach (var (name, value) in spec.Environment) environment[name] = value;
        environment[PoolFrames.WorkerVariable] = id.ToString(CultureInfo.InvariantCulture);
        var request = new SpawnRequest(spec.FileName, spec.Arguments, spec.WorkingDirectory ?? System.Environment.CurrentDirectory, environment)
        {
            Channel = SpawnChannel.Named(PoolFrames.FdVariable),
        };
        ChildProcess child = ChildProcess.Start(request, options.TimeProvider);
        string prefix = $"[{options.Name} worker {id} pid {child.Pid}] ";
        WorkerOutput outSink = output(prefix, false), errSink = output(prefix, true);
        PipeDrain? stdout = child.StandardOutput is { } o ? PipeDrain.Start(o, outSink) : null;
        PipeDrain? stderr = child.StandardError is { } e2 ? PipeDrain.Start(e2, errSink) : null;
        var worker = new WorkerProcess(id, spec, child, options.TimeProvider, taskLimit, ageLimit, stdout, stderr)
        {
            _outputEnded = Task.WhenAll(stdout is null ? Task.CompletedTask : outSink.Ended, stderr is null ? Task.CompletedTask : errSink.Ended),
        };
        _ = worker.ReadLoopAsync();
        return worker;
    }

    /// <summary>Takes a place for one more task; false once the worker has had its MaxTasks.</summary>
    public bool TryReserve(out bool last, out int count)
    {
        if (TaskLimit == int.MaxValue)
        {
            (last, count) = (false, 0); // no limit: nothing to count (and nothing to overflow)
            return true;
        }
        count = Interlocked.Increment(ref _reserved);
        last = count == TaskLimit;
        if (count <= TaskLimit) return true;
        Interlocked.Decrement(ref _reserved);
        return false;
    }

    public void Unreserve()
    {
        if (TaskLimit != int.MaxValue) Interlocked.Decrement(ref _reserved);
    }

    /// <summary>Sends one task and waits for its answer: the frame with its result or error, or an
    /// exception if the worker is lost first, or <paramref name="abandon"/> fires (the pool gave up on it).</summary>
    public async Task<JsonDocument> RunAsync(ReadOnlyMemory<byte> body, Action<long> onSent, CancellationToken abandon)
    {
        long id = Interlocked.Increment(ref _nextId);
        var answer = new TaskCompletionSource<JsonDocument>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = answer;
        if (_lossReason is { } lost) answer.TrySetException(Lost(lost));
        try
        {
            await SendAsync(PoolFrames.Envelope("task", id, body.Span)).ConfigureAwait(false);
            onSent(id);
            using (abandon.Register(() => answer.TrySetCanceled(abandon)))
            {
                return await answer.Task.ConfigureAwait(false);
            }
        }
        finally
        {
            _pending.TryRemove(id, out _);
        }
    }

    /// <summary>Counts a finished task; the first one sets the memory baseline (warm-up and first work done).</summary>
    public void Completed()
    {
        if (Interlocked.Increment(ref _done) == 1) BaselineRss = ProcStat.ReadRssBytes(Pid);
    }

    public Task CancelAsync(long id) => SendAsync(PoolFrames.Envelope("cancel", id));

    public Task RequestStopAsync() => SendAsync(PoolFrames.Envelope("stop", null));

    /// <summary>Sends a ping unless one is out; returns how long the one that is out has waited.</summary>
    public TimeSpan? Heartbeat()
    {
        long sent = Interlocked.Read(ref _pingSentAt);
        if (sent != 0) return _time.GetElapsedTime(sent);
        long id = Interlocked.Increment(ref _nextId);
        Interlocked.Exchange(ref _pingId, id);
        Interlocked.Exchange(ref _pingSentAt, _time.GetTimestamp());
        _ = SendAsync(PoolFrames.Envelope("ping", id));
        return null;
    }

    /// <summary>One ping, answered within <paramref name="deadline"/> or false.</summary>
    public async Task<bool> PingAsync(TimeSpan deadline, CancellationToken ct)
    {
        long id = Interlocked.Increment(ref _nextId);
        var answer = new TaskCompletionSource<JsonDocument>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = answer;
        try
        {
            await SendAsync(PoolFrames.Envelope("ping", id)).ConfigureAwait(false);
            using JsonDocument pong = await answer.Task.WaitAsync(deadline, _time, ct).ConfigureAwait(false);
            return true;
        }
        catch (Exception e) when (e is TimeoutException or PoolException)
        {
            return false;
        }
        finally
        {
            _pending.TryRemove(id, out _);
        }
    }

    /// <summary>Kills it now (SIGKILL to its group); its running tasks fail with <paramref name="reason"/>.</summary>
    public void Kill(string reason)
    {
        _lossReason ??= reason;
        StopTaking.Cancel();
        if (State == WorkerState.Gone) return;
        try
        {
            _ = _child.StopAsync(Signals.SIGKILL, TimeSpan.Zero);
        }
        catch (ObjectDisposedException)
        {
        }
    }

    /// <summary>The graceful end: a stop message, then the signal ladder (signal, kill timeout, SIGKILL).</summary>
    public async Task StopAsync(int signal, TimeSpan killTimeout, string reasonForLeftovers)
    {
        _lossReason ??= reasonForLeftovers;
        StopTaking.Cancel();
        State = WorkerState.Stopping;
        await RequestStopAsync().ConfigureAwait(false);
        try
        {
            await Exited.WaitAsync(TimeSpan.FromMilliseconds(Math.Min(killTimeout.TotalMilliseconds, 2000)), _time).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            try
            {
                await _child.StopAsync(signal, killTimeout).ConfigureAwait(false);
            }
            catch (ObjectDisposedException)
            {
                // It exited just now and its watcher let the child go.
            }
        }
        await Exited.ConfigureAwait(false);
    }

    private async Task SendAsync(byte[] frame)
    {
        await _write.WaitAsync().ConfigureAwait(false);
        try
        {
            await _stream.WriteAsync(frame).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or SocketException)
        {
            // The worker is gone or going; its exit fails whatever waits for an answer.
        }
        finally
        {
            _write.Release();
        }
    }

    private async Task ReadLoopAsync()
    {
        try
        {
            while (await PoolFrames.ReadAsync(_stream, CancellationToken.None).ConfigureAwait(false) is { } message)
            {
                long id = PoolFrames.IdOf(message);
                switch (PoolFrames.TypeOf(message))
                {
                    case "ready":
                        _ready.TrySetResult();
                        break;
                    case "result" or "error":
                        if (_pending.TryRemove(id, out var waiting) && waiting.TrySetResult(message)) continue;
                        break;
                    case "pong":
                        if (Interlocked.Read(ref _pingId) == id) Interlocked.Exchange(ref _pingSentAt, 0);
                        else if (_pending.TryRemove(id, out var pinger) && pinger.TrySetResult(message)) continue;
                        break;
                }
                message.Dispose();
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or SocketException or InvalidDataException or JsonException or EndOfStreamException)
        {
            // A worker that writes garbage on its channel cannot be trusted with tasks.
            if (e is InvalidDataException or JsonException) Kill($"broke the channel protocol: {e.Message}");
        }
    }

    private async Task<ExitStatus> WatchExitAsync()
    {
        ExitStatus status = await _child.Exited.ConfigureAwait(false);
        State = WorkerState.Gone;
        StopTaking.Cancel();
        string reason = _lossReason ?? status.ToString();
        _lossReason = reason;
        _ready.TrySetException(new WorkerStartException("", $"worker {Id} (pid {Pid}) ended before it was ready: {reason}"));
        foreach (var (id, waiting) in _pending)
        {
            if (_pending.TryRemove(id, out _)) waiting.TrySetException(Lost(reason));
        }
        _stream.Dispose();
        // The last lines are still in the pipes: read them to their end (a grandchild that kept a
        // copy open gets two seconds) before the child, which owns the pidfd, is let go.
        try
        {
            await _outputEnded.WaitAsync(TimeSpan.FromSeconds(2), _time).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            _stdout?.Dispose();
            _stderr?.Dispose();
        }
        await _child.DisposeAsync().ConfigureAwait(false);
        return status;
    }

    /// <summary>Why the worker's tasks failed, once it is gone (null while it lives).</summary>
    public string? LossReason => State == WorkerState.Gone ? _lossReason : null;

    internal string PoolName { get; set; } = "";

    private WorkerLostException Lost(string reason) => new(PoolName, Id, Pid, reason);
}
