using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.CircuitBreaker;
using Tend.Processes;

namespace Tend.Pool;

/// <summary>
/// A pool of worker processes that run tasks sent to them (docs/pool.md). Tasks wait in one bounded
/// queue; each worker takes the next task whenever it has a free slot (ConcurrencyPerWorker), so a slow
/// worker never holds tasks another could run. Workers are pinged, recycled by MaxTasks, MaxAge and
/// MaxMemory with their replacement ready first, replaced one batch at a time
/// (<see cref="ReplaceAllAsync"/>) or as a whole pool after a warm-up (<c>SwapAsync</c>), and
/// stopped gracefully (<see cref="ShutdownAsync"/>).
/// </summary>
public sealed partial class ProcessPool : IAsyncDisposable
{
    private readonly PoolOptions _options;
    private readonly Channel<WorkItem> _queue;
    private readonly Lock _gate = new();
    private readonly List<WorkerProcess> _workers = [];
    private readonly ILogger _logger;
    private readonly ILogger? _outputLogger;
    private readonly PoolMetrics _metrics;
    private readonly ResiliencePipeline? _breaker;
    private readonly ITimer _heartbeat;
    private readonly SemaphoreSlim _replacing = new(1, 1);
    private readonly CancellationTokenSource _closing = new();
    private WorkerSpec _spec;
    private int _nextWorkerId;
    private int _recyclesUnderWay;
    private int _startFailures;
    private Task? _shutdown;
    private volatile bool _accepting = true;

    private ProcessPool(WorkerSpec spec, PoolOptions options)
    {
        _spec = spec;
        _options = options;
        _queue = Channel.CreateBounded<WorkItem>(new BoundedChannelOptions(options.MaxQueue)
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = false,
            SingleWriter = false,
        });
        _logger = (ILogger?)options.LoggerFactory?.CreateLogger("Tend.Pool") ?? Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;
        _outputLogger = options.LoggerFactory?.CreateLogger("Tend.Pool.Worker");
        _metrics = new PoolMetrics(this);
        if (options.CircuitBreaker is { } cb)
        {
            _breaker = new ResiliencePipelineBuilder().AddCircuitBreaker(new CircuitBreakerStrategyOptions
            {
                FailureRatio = cb.FailureRatio,
                MinimumThroughput = cb.MinimumThroughput,
                SamplingDuration = cb.SamplingDuration,
                BreakDuration = cb.BreakDuration,
                ShouldHandle = args => ValueTask.FromResult(args.Outcome.Exception is WorkerLostException or PoolTaskTimeoutException or WorkerTaskException),
            }).Build();
        }
        _heartbeat = options.TimeProvider.CreateTimer(_ => Heartbeat(), null, options.HeartbeatInterval, options.HeartbeatInterval);
    }

    /// <summary>The pool's name (<see cref="PoolOptions.Name"/>).</summary>
    public string Name => _options.Name;

    /// <summary>What the workers run now (changed by <see cref="ReplaceAllAsync"/> and <c>SwapAsync</c>).</summary>
    public WorkerSpec Spec { get { lock (_gate) return _spec; } }

    /// <summary>Raised for every worker started, lost, recycled or stopped; on a thread-pool thread.</summary>
    public event EventHandler<PoolWorkerEvent>? WorkerEvent;

    /// <summary>Tasks waiting for a worker.</summary>
    public int QueueLength => _queue.Reader.Count;

    /// <summary>Tasks being run by a worker now.</summary>
    public int InFlight => Volatile.Read(ref _inFlight);
    private int _inFlight;

    /// <summary>Every worker the pool holds now, standby and retiring ones included.</summary>
    public IReadOnlyList<PoolWorkerInfo> Workers
    {
        get
        {
            lock (_gate)
            {
                return [.. _workers.Select(w => new PoolWorkerInfo(w.Id, w.Pid, w.State.ToString().ToLowerInvariant(), w.Spec.Label,
                    w.TasksDone, w.Age, w.LastRss, w.BaselineRss))];
            }
        }
    }

    /// <summary>Starts <see cref="PoolOptions.Workers"/> workers and returns once every one is ready.</summary>
    /// <exception cref="ArgumentException">An option is out of range (named in the message).</exception>
    /// <exception cref="WorkerStartException">A worker could not be started or did not become ready; none is left running.</exception>
    public static async Task<ProcessPool> StartAsync(WorkerSpec spec, PoolOptions? options = null, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(spec);
        options ??= new PoolOptions();
        options.Validate();
        var pool = new ProcessPool(spec, options);
        try
        {
            WorkerProcess[] started = await pool.StartWorkersAsync(spec, options.Workers, ct).ConfigureAwait(false);
            foreach (WorkerProcess w in started) pool.Activate(w);
            PoolLog.Started(pool._logger, options.Name, options.Workers, spec.Label);
            return pool;
        }
        catch
        {
            await pool.ShutdownAsync(TimeSpan.Zero).ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// Runs one task in a worker and returns its result. Fails with <see cref="PoolQueueFullException"/>
    /// (queue full, nothing sent), <see cref="PoolTaskTimeoutException"/>, <see cref="WorkerLostException"/>,
    /// <see cref="WorkerTaskException"/> (the worker's handler threw), <see cref="PoolCircuitOpenException"/>,
    /// <see cref="PoolShutdownException"/>, or <see cref="OperationCanceledException"/> when
    /// <paramref name="ct"/> fires (the worker is told to cancel the task).
    /// </summary>
    [RequiresUnreferencedCode("Reflection-based JSON; use the JsonTypeInfo overload when trimming.")]
    [RequiresDynamicCode("Reflection-based JSON; use the JsonTypeInfo overload for NativeAOT.")]
    public Task<TResult> InvokeAsync<TRequest, TResult>(TRequest request, CancellationToken ct = default)
    {
        JsonSerializerOptions json = _options.Json ?? JsonSerializerOptions.Web;
        return InvokeAsync(request, (JsonTypeInfo<TRequest>)json.GetTypeInfo(typeof(TRequest)), (JsonTypeInfo<TResult>)json.GetTypeInfo(typeof(TResult)), ct);
    }

    /// <summary>The same, with source-generated JSON metadata (trimming and NativeAOT safe).</summary>
    public async Task<TResult> InvokeAsync<TRequest, TResult>(TRequest request, JsonTypeInfo<TRequest> requestInfo, JsonTypeInfo<TResult> resultInfo, CancellationToken ct = default)
    {
        byte[] body = JsonSerializer.SerializeToUtf8Bytes(request, requestInfo);
        using JsonDocument answer = await InvokeRawAsync(body, ct).ConfigureAwait(false);
        return answer.RootElement.TryGetProperty("body", out JsonElement result) ? result.Deserialize(resultInfo)! : default!;
    }

    private async Task<JsonDocument> InvokeRawAsync(byte[] body, CancellationToken ct)
    {
        if (_breaker is null) return await EnqueueAsync(body, ct).ConfigureAwait(false);
        try
        {
            return await _breaker.ExecuteAsync(static async (state, token) => await state.Pool.EnqueueAsync(state.Body, token).ConfigureAwait(false),
                (Pool: this, Body: body), ct).ConfigureAwait(false);
        }
        catch (BrokenCircuitException e)
        {
            _metrics.Failed("circuit_open");
            throw new PoolCircuitOpenException(Name, e);
        }
    }

    private async Task<JsonDocument> EnqueueAsync(byte[] body, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        if (!_accepting) throw new PoolShutdownException($"pool {Name} is shutting down; the task was not accepted");
        var item = new WorkItem(body, ct, _options.TimeProvider.GetTimestamp());
        if (!_queue.Writer.TryWrite(item))
        {
            _metrics.Failed("rejected");
            if (!_accepting) throw new PoolShutdownException($"pool {Name} is shutting down; the task was not accepted");
            throw new PoolQueueFullException(Name, _options.MaxQueue);
        }
        // Cancelled while it waits: it is dropped when a worker reads it. While it runs, the worker is told.
        using (ct.Register(static s => ((WorkItem)s!).CancelByCaller(), item))
        {
            try
            {
                JsonDocument answer = await item.Result.Task.ConfigureAwait(false);
                _metrics.Completed(_options.TimeProvider.GetElapsedTime(item.EnqueuedAt), "ok");
                return answer;
            }
            catch (Exception e)
            {
                string kind = e switch
                {
                    OperationCanceledException => "cancelled",
                    PoolTaskTimeoutException => "timeout",
                    WorkerLostException => "worker_lost",
                    WorkerTaskException => "task_error",
                    PoolShutdownException => "shutdown",
                    _ => "other",
                };
                _metrics.Failed(kind);
                _metrics.Completed(_options.TimeProvider.GetElapsedTime(item.EnqueuedAt), kind);
                throw;
            }
        }
    }

    // ---- Workers taking tasks ----

    private void Activate(WorkerProcess worker)
    {
        lock (_gate)
        {
            if (_closing.IsCancellationRequested || worker.State == WorkerState.Gone) return;
            worker.State = WorkerState.Active;
            for (int i = 0; i < _options.ConcurrencyPerWorker; i++) worker.Slots.Add(Task.Run(() => SlotLoopAsync(worker)));
        }
    }

    /// <summary>One of a worker's slots: takes the next task whenever it is free, until the worker stops taking.</summary>
    private async Task SlotLoopAsync(WorkerProcess worker)
    {
        CancellationToken stopTaking = worker.StopTaking.Token;
        while (!stopTaking.IsCancellationRequested)
        {
            if (!worker.TryReserve(out bool last, out int count))
            {
                worker.LastTaskTaken.TrySetResult();
                return;
            }
            WorkItem? item;
            try
            {
                if (!await _queue.Reader.WaitToReadAsync(stopTaking).ConfigureAwait(false))
                {
                    worker.Unreserve();
                    return; // shutting down and nothing is left
                }
                if (!_queue.Reader.TryRead(out item))
                {
                    worker.Unreserve();
                    continue;
                }
            }
            catch (OperationCanceledException)
            {
                worker.Unreserve();
                return;
            }
            if (count == PrestartAt(worker)) BeginRecycle(worker, "max_tasks");
            if (last) worker.LastTaskTaken.TrySetResult();
            if (!item.TryStart())
            {
                worker.Unreserve(); // cancelled while waiting: it never reaches a worker
                if (last) continue;
                continue;
            }
            await RunOnWorkerAsync(worker, item).ConfigureAwait(false);
            if (last) return;
        }
    }

    /// <summary>With MaxTasks, the replacement starts a little before the last task, so it is ready when that one is taken.</summary>
    private int PrestartAt(WorkerProcess worker)
    {
        if (worker.TaskLimit == int.MaxValue) return -1;
        int lead = Math.Max(_options.ConcurrencyPerWorker, (int)Math.Ceiling(worker.TaskLimit * 0.2));
        return Math.Max(1, worker.TaskLimit - lead);
    }

    private async Task RunOnWorkerAsync(WorkerProcess worker, WorkItem item)
    {
        Interlocked.Increment(ref _inFlight);
        using var abandon = new CancellationTokenSource();
        ITimer? deadline = null;
        try
        {
            if (_options.TaskTimeout != Timeout.InfiniteTimeSpan)
            {
                deadline = _options.TimeProvider.CreateTimer(_ =>
                {
                    if (item.Result.TrySetException(new PoolTaskTimeoutException(Name, worker.Id, worker.Pid, _options.TaskTimeout)))
                    {
                        PoolLog.TaskTimedOut(_logger, Name, worker.Id, worker.Pid, _options.TaskTimeout.TotalSeconds);
                        Condemn(worker, $"a task ran past its timeout of {_options.TaskTimeout.TotalSeconds:0.###} s");
                    }
                    try
                    {
                        abandon.Cancel();
                    }
                    catch (ObjectDisposedException)
                    {
                        // The answer came as the deadline passed.
                    }
                }, null, _options.TaskTimeout, Timeout.InfiniteTimeSpan);
            }
            JsonDocument answer = await worker.RunAsync(item.Body, id => item.Sent(worker, id), abandon.Token).ConfigureAwait(false);
            worker.Completed();
            if (PoolFrames(answer) is { } error)
            {
                answer.Dispose();
                if (error.Type == "cancelled") item.Result.TrySetCanceled(item.Caller.IsCancellationRequested ? item.Caller : new CancellationToken(true));
                else item.Result.TrySetException(new WorkerTaskException(Name, worker.Id, error.Type, error.Message));
            }
            else if (!item.Result.TrySetResult(answer))
            {
                answer.Dispose();
            }
        }
        catch (WorkerLostException lost)
        {
            item.Result.TrySetException(lost);
        }
        catch (OperationCanceledException)
        {
            // Abandoned: the task's own outcome (timeout) is set already.
        }
        finally
        {
            if (deadline is not null) await deadline.DisposeAsync().ConfigureAwait(false);
            Interlocked.Decrement(ref _inFlight);
        }
    }

    private static (string Type, string Message)? PoolFrames(JsonDocument answer)
    {
        JsonElement root = answer.RootElement;
        if (!root.TryGetProperty("type", out JsonElement t) || t.GetString() != "error") return null;
        string type = "error", message = "";
        if (root.TryGetProperty("error", out JsonElement e) && e.ValueKind == JsonValueKind.Object)
        {
            if (e.TryGetProperty("type", out JsonElement et) && et.ValueKind == JsonValueKind.String) type = et.GetString()!;
            if (e.TryGetProperty("message", out JsonElement em) && em.ValueKind == JsonValueKind.String) message = em.GetString()!;
        }
        return (type, message);
    }
}
