using System.Security.Cryptography;
using System.Text.Json;
using Tend.Processes;

namespace Tend.Pool;

// Starting, replacing, recycling and stopping workers.
public sealed partial class ProcessPool
{
    private static readonly TimeSpan s_maxStartBackoff = TimeSpan.FromSeconds(10);

    /// <summary>Starts <paramref name="count"/> workers in parallel and waits until each is ready; if
    /// any fails, kills the others and throws.</summary>
    private async Task<WorkerProcess[]> StartWorkersAsync(WorkerSpec spec, int count, CancellationToken ct)
    {
        var starting = new List<Task<WorkerProcess>>();
        for (int i = 0; i < count; i++) starting.Add(StartWorkerAsync(spec, ct));
        try
        {
            return await Task.WhenAll(starting).ConfigureAwait(false);
        }
        catch
        {
            foreach (Task<WorkerProcess> t in starting)
            {
                if (t.IsCompletedSuccessfully) await KillAndForgetAsync(t.Result, "its batch failed to start").ConfigureAwait(false);
            }
            throw starting.Select(t => t.Exception?.InnerException).FirstOrDefault(e => e is not null) ?? new WorkerStartException(Name, "cancelled");
        }
    }

    /// <summary>One worker, ready (on standby: it takes tasks only once activated).</summary>
    private async Task<WorkerProcess> StartWorkerAsync(WorkerSpec spec, CancellationToken ct)
    {
        int id = Interlocked.Increment(ref _nextWorkerId);
        int limit = _options.MaxTasks is int max ? max + (int)(max * _options.RecycleJitter * Random.Shared.NextDouble()) : int.MaxValue;
        TimeSpan? age = _options.MaxAge is TimeSpan a ? a * (1 + _options.RecycleJitter * Random.Shared.NextDouble()) : null;
        WorkerProcess worker;
        try
        {
            worker = WorkerProcess.Start(id, spec, _options, (prefix, isError) =>
                new WorkerOutput(_outputLogger, isError ? Console.Error : Console.Out, prefix, isError), limit, age);
        }
        catch (Exception e) when (e is SpawnException or ArgumentException or IOException)
        {
            throw new WorkerStartException(Name, e.Message, e);
        }
        worker.PoolName = Name;
        bool closing;
        lock (_gate)
        {
            closing = _closing.IsCancellationRequested;
            if (!closing) _workers.Add(worker);
        }
        if (closing)
        {
            await KillAndForgetAsync(worker, "the pool is shutting down").ConfigureAwait(false);
            throw new WorkerStartException(Name, "the pool is shutting down");
        }
        _ = WatchAsync(worker);
        try
        {
            await worker.Ready.WaitAsync(_options.StartTimeout, _options.TimeProvider, ct).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            string why = e switch
            {
                TimeoutException => $"worker {id} (pid {worker.Pid}) did not say it was ready within {_options.StartTimeout.TotalSeconds:0.###} s",
                OperationCanceledException => "cancelled",
                _ => e.Message,
            };
            await KillAndForgetAsync(worker, why).ConfigureAwait(false);
            throw new WorkerStartException(Name, why, e);
        }
        lock (_gate)
        {
            closing = _closing.IsCancellationRequested;
            if (worker.State == WorkerState.Starting) worker.State = WorkerState.Standby;
            worker.WasReady = !closing;
        }
        if (closing)
        {
            await KillAndForgetAsync(worker, "the pool is shutting down").ConfigureAwait(false);
            throw new WorkerStartException(Name, "the pool is shutting down");
        }
        if (worker.State == WorkerState.Gone) throw new WorkerStartException(Name, $"worker {id} (pid {worker.Pid}) ended as soon as it was ready: {worker.LossReason}");
        Interlocked.Exchange(ref _startFailures, 0);
        Raise(PoolWorkerEventKind.Started, worker, spec.Label);
        PoolLog.WorkerStarted(_logger, Name, worker.Id, worker.Pid, spec.Label);
        return worker;
    }

    private async Task KillAndForgetAsync(WorkerProcess worker, string reason)
    {
        worker.Recycling = true; // not lost: nobody replaces it
        worker.State = WorkerState.Stopping;
        worker.Kill(reason);
        await worker.Exited.ConfigureAwait(false);
    }

    /// <summary>Waits for the worker's end and decides: a worker that died once ready, without the
    /// pool stopping it, is lost (its tasks failed already) and its place is filled again.</summary>
    private async Task WatchAsync(WorkerProcess worker)
    {
        ExitStatus status = await worker.Exited.ConfigureAwait(false);
        bool lost;
        lock (_gate)
        {
            _workers.Remove(worker);
            lost = worker.WasReady && !worker.Recycling && !_closing.IsCancellationRequested;
        }
        if (!lost) return;
        string reason = worker.LossReason ?? status.ToString();
        _metrics.WorkerLost();
        PoolLog.WorkerLost(_logger, Name, worker.Id, worker.Pid, reason);
        Raise(PoolWorkerEventKind.Lost, worker, reason);
        _ = ReplaceLostAsync();
    }

    /// <summary>A lost worker's place is filled again, with a growing pause between failed starts.</summary>
    private async Task ReplaceLostAsync()
    {
        while (!_closing.IsCancellationRequested)
        {
            int failures = Volatile.Read(ref _startFailures);
            if (failures > 0)
            {
                TimeSpan pause = TimeSpan.FromMilliseconds(Math.Min(s_maxStartBackoff.TotalMilliseconds, 100 * Math.Pow(2, failures - 1)));
                try
                {
                    await Task.Delay(pause, _options.TimeProvider, _closing.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
            try
            {
                WorkerProcess fresh = await StartWorkerAsync(Spec, _closing.Token).ConfigureAwait(false);
                Activate(fresh);
                return;
            }
            catch (WorkerStartException e)
            {
                if (_closing.IsCancellationRequested) return;
                Interlocked.Increment(ref _startFailures);
                PoolLog.StartFailed(_logger, Name, e.Message);
            }
        }
    }

    /// <summary>A worker that must not take more tasks: its replacement starts now; it is killed once
    /// its other tasks are done (at once with one task per worker).</summary>
    private void Condemn(WorkerProcess worker, string reason)
    {
        lock (_gate)
        {
            if (worker.State is WorkerState.Gone or WorkerState.Stopping) return;
            worker.State = WorkerState.Retiring;
        }
        worker.StopTaking.Cancel();
        _ = Task.Run(async () =>
        {
            await Task.WhenAll(SlotsOf(worker)).ConfigureAwait(false);
            worker.Kill(reason);
        });
    }

    private Task[] SlotsOf(WorkerProcess worker)
    {
        lock (_gate) return [.. worker.Slots];
    }

    /// <summary>Recycling: the replacement is started and ready before the old worker stops taking
    /// tasks (MaxTasks: once it has taken its last one). Age and memory recycles go one at a time.</summary>
    private void BeginRecycle(WorkerProcess old, string reason)
    {
        lock (_gate)
        {
            if (old.Recycling || old.State != WorkerState.Active || _closing.IsCancellationRequested) return;
            if (reason != "max_tasks" && _recyclesUnderWay > 0) return; // next heartbeat
            old.Recycling = true;
            _recyclesUnderWay++;
        }
        _ = Task.Run(async () =>
        {
            try
            {
                WorkerProcess? fresh = null;
                while (fresh is null && !_closing.IsCancellationRequested && old.State != WorkerState.Gone)
                {
                    try
                    {
                        fresh = await StartWorkerAsync(Spec, _closing.Token).ConfigureAwait(false);
                    }
                    catch (WorkerStartException e)
                    {
                        PoolLog.StartFailed(_logger, Name, e.Message);
                        try
                        {
                            await Task.Delay(TimeSpan.FromSeconds(1), _options.TimeProvider, _closing.Token).ConfigureAwait(false);
                        }
                        catch (OperationCanceledException) { }
                    }
                }
                if (fresh is null) return;
                if (reason == "max_tasks") await Task.WhenAny(old.LastTaskTaken.Task, old.Exited).ConfigureAwait(false);
                Activate(fresh);
                _metrics.Recycled(reason);
                await RetireAsync(old, PoolWorkerEventKind.Recycled, reason).ConfigureAwait(false);
            }
            finally
            {
                lock (_gate) _recyclesUnderWay--;
            }
        });
    }

    /// <summary>Stops taking tasks, finishes the ones it took, then stops with the signal ladder.</summary>
    private async Task RetireAsync(WorkerProcess worker, PoolWorkerEventKind kind, string reason)
    {
        lock (_gate)
        {
            worker.Recycling = true;
            if (worker.State is WorkerState.Active or WorkerState.Standby) worker.State = WorkerState.Retiring;
        }
        worker.StopTaking.Cancel();
        await Task.WhenAll(SlotsOf(worker)).ConfigureAwait(false);
        if (worker.State != WorkerState.Gone)
            await worker.StopAsync(_options.StopSignal, _options.KillTimeout, $"stopped by the pool ({reason})").ConfigureAwait(false);
        PoolLog.WorkerRetired(_logger, Name, worker.Id, worker.Pid, reason, worker.TasksDone);
        Raise(kind, worker, reason);
    }

    /// <summary>Pings, hung workers, ages and memory, once per HeartbeatInterval.</summary>
    private void Heartbeat()
    {
        try
        {
            HeartbeatCore();
        }
        catch (Exception e)
        {
            // A timer callback must never throw: that would end the app, not just this beat.
            PoolLog.HeartbeatFailed(_logger, Name, e);
        }
    }

    private void HeartbeatCore()
    {
        WorkerProcess[] workers;
        lock (_gate) workers = [.. _workers];
        foreach (WorkerProcess w in workers)
        {
            if (w.State is not (WorkerState.Active or WorkerState.Standby or WorkerState.Retiring)) continue;
            if (w.Heartbeat() is TimeSpan waited && waited >= _options.HeartbeatTimeout)
            {
                string reason = $"hung: no answer to a ping within {_options.HeartbeatTimeout.TotalSeconds:0.###} s";
                PoolLog.WorkerHung(_logger, Name, w.Id, w.Pid, _options.HeartbeatTimeout.TotalSeconds);
                w.Kill(reason);
                continue;
            }
            if (w.State != WorkerState.Active) continue;
            w.LastRss = ProcStat.ReadRssBytes(w.Pid); // one small read per worker: MaxMemory and the memory gauge
            if (w.AgeLimit is TimeSpan age && w.Age >= age) BeginRecycle(w, "max_age");
            else if (_options.MaxMemory is long growth && w.BaselineRss is long baseline && w.LastRss is long rss && rss - baseline > growth)
                BeginRecycle(w, "max_memory");
        }
    }

    /// <summary>
    /// Rolling replacement: <paramref name="batchSize"/> new workers at a time are started and ready,
    /// then as many old ones stop taking tasks and finish theirs. No task is dropped and the pool never
    /// has fewer ready workers than before. If a new worker fails to start, the replacement stops there:
    /// the workers not yet replaced keep serving (with the spec they had) and this throws.
    /// </summary>
    public async Task ReplaceAllAsync(WorkerSpec spec, int batchSize = 1, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        await _replacing.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            WorkerProcess[] old;
            lock (_gate) old = [.. _workers.Where(w => w.State == WorkerState.Active && !w.Recycling)];
            WorkerSpec previous = Spec;
            int replaced = 0;
            foreach (WorkerProcess[] batch in old.Chunk(batchSize))
            {
                WorkerProcess[] fresh;
                try
                {
                    fresh = await StartWorkersAsync(spec, batch.Length, ct).ConfigureAwait(false);
                }
                catch (Exception e) when (e is WorkerStartException or OperationCanceledException)
                {
                    throw new PoolReplaceException($"pool {Name}: the replacement stopped after {replaced} of {old.Length} workers: {e.Message}; " +
                        $"the other {old.Length - replaced} keep serving with {(replaced == 0 ? previous.Label : "the spec they had")}", e);
                }
                lock (_gate) _spec = spec;
                foreach (WorkerProcess w in fresh) Activate(w);
                await Task.WhenAll(batch.Select(w => RetireAsync(w, PoolWorkerEventKind.Stopped, "replaced"))).ConfigureAwait(false);
                replaced += batch.Length;
                _metrics.Recycled("replace", batch.Length);
            }
            PoolLog.Replaced(_logger, Name, replaced, spec.Label);
        }
        finally
        {
            _replacing.Release();
        }
    }

    /// <summary>
    /// Blue-green: a full standby pool of <paramref name="spec"/> is started, each standby worker runs
    /// every <paramref name="warmup"/> request and answers a ping; then, in one step, the standby
    /// workers take over and the old ones finish their tasks and stop. If any standby worker fails to
    /// start, fails a warm-up request or a ping, the standby pool is killed, the active pool was never
    /// touched, and this throws <see cref="PoolReplaceException"/>.
    /// </summary>
    public async Task SwapAsync<TRequest>(WorkerSpec spec, IEnumerable<TRequest> warmup, System.Text.Json.Serialization.Metadata.JsonTypeInfo<TRequest> requestInfo, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(spec);
        byte[][] bodies = [.. warmup.Select(r => JsonSerializer.SerializeToUtf8Bytes(r, requestInfo))];
        await SwapRawAsync(spec, bodies, ct).ConfigureAwait(false);
    }

    /// <summary><see cref="SwapAsync{TRequest}(WorkerSpec, IEnumerable{TRequest}, System.Text.Json.Serialization.Metadata.JsonTypeInfo{TRequest}, CancellationToken)"/> with reflection-based JSON.</summary>
    [System.Diagnostics.CodeAnalysis.RequiresUnreferencedCode("Reflection-based JSON; use the JsonTypeInfo overload when trimming.")]
    [System.Diagnostics.CodeAnalysis.RequiresDynamicCode("Reflection-based JSON; use the JsonTypeInfo overload for NativeAOT.")]
    public Task SwapAsync<TRequest>(WorkerSpec spec, IEnumerable<TRequest> warmup, CancellationToken ct = default)
    {
        JsonSerializerOptions json = _options.Json ?? JsonSerializerOptions.Web;
        return SwapAsync(spec, warmup, (System.Text.Json.Serialization.Metadata.JsonTypeInfo<TRequest>)json.GetTypeInfo(typeof(TRequest)), ct);
    }

    private async Task SwapRawAsync(WorkerSpec spec, byte[][] warmup, CancellationToken ct)
    {
        await _replacing.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            WorkerProcess[] standby;
            try
            {
                standby = await StartWorkersAsync(spec, _options.Workers, ct).ConfigureAwait(false);
            }
            catch (Exception e) when (e is WorkerStartException or OperationCanceledException)
            {
                throw new PoolReplaceException($"pool {Name}: swap to {spec.Label} abandoned, the standby pool did not start: {e.Message}; the active pool was not touched", e);
            }
            string? problem = await CheckStandbyAsync(standby, warmup, ct).ConfigureAwait(false);
            if (problem is not null)
            {
                await Task.WhenAll(standby.Select(w => KillAndForgetAsync(w, "swap abandoned"))).ConfigureAwait(false);
                PoolLog.SwapAbandoned(_logger, Name, spec.Label, problem);
                throw new PoolReplaceException($"pool {Name}: swap to {spec.Label} abandoned: {problem}; the active pool was not touched");
            }
            WorkerProcess[] old;
            lock (_gate)
            {
                old = [.. _workers.Where(w => w.State == WorkerState.Active && !standby.Contains(w))];
                _spec = spec;
                foreach (WorkerProcess w in old)
                {
                    w.Recycling = true;
                    w.State = WorkerState.Retiring;
                    w.StopTaking.Cancel();
                }
                foreach (WorkerProcess w in standby) Activate(w);
            }
            _metrics.Recycled("swap", old.Length);
            PoolLog.Swapped(_logger, Name, spec.Label, standby.Length);
            await Task.WhenAll(old.Select(w => RetireAsync(w, PoolWorkerEventKind.Stopped, "swap"))).ConfigureAwait(false);
        }
        finally
        {
            _replacing.Release();
        }
    }

    /// <summary>Warm-up requests on every standby worker, then a ping each; the first problem, or null.</summary>
    private async Task<string?> CheckStandbyAsync(WorkerProcess[] standby, byte[][] warmup, CancellationToken ct)
    {
        TimeSpan limit = _options.TaskTimeout == Timeout.InfiniteTimeSpan ? _options.StartTimeout : _options.TaskTimeout;
        foreach (WorkerProcess w in standby)
        {
            foreach (byte[] body in warmup)
            {
                try
                {
                    using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
                    timeout.CancelAfter(limit);
                    using JsonDocument answer = await w.RunAsync(body, _ => { }, timeout.Token).ConfigureAwait(false);
                    w.Completed();
                    if (PoolFrames(answer) is { } error) return $"worker {w.Id} (pid {w.Pid}) failed a warm-up request: {error.Type}: {error.Message}";
                }
                catch (OperationCanceledException) when (!ct.IsCancellationRequested)
                {
                    return $"worker {w.Id} (pid {w.Pid}) did not answer a warm-up request within {limit.TotalSeconds:0.###} s";
                }
                catch (WorkerLostException e)
                {
                    return $"worker {w.Id} (pid {w.Pid}) died during its warm-up: {e.Reason}";
                }
            }
            if (!await w.PingAsync(_options.HeartbeatTimeout, ct).ConfigureAwait(false))
                return $"worker {w.Id} (pid {w.Pid}) did not answer its health check (a ping) within {_options.HeartbeatTimeout.TotalSeconds:0.###} s";
        }
        return null;
    }

    /// <summary>
    /// Stops accepting tasks; lets queued and running tasks finish for up to <paramref name="timeout"/>;
    /// fails what is left with <see cref="PoolShutdownException"/>; then stops every worker (a stop
    /// message, the stop signal, SIGKILL after KillTimeout). Returns when no worker process is left.
    /// </summary>
    public Task ShutdownAsync(TimeSpan timeout)
    {
        lock (_gate)
        {
            if (_shutdown is not null) return _shutdown;
            _accepting = false;
            _queue.Writer.TryComplete();
            return _shutdown = ShutdownCoreAsync(timeout);
        }
    }

    private async Task ShutdownCoreAsync(TimeSpan timeout)
    {
        await Task.Yield();
        Task[] slots;
        lock (_gate) slots = [.. _workers.SelectMany(w => w.Slots)];
        try
        {
            await Task.WhenAll(slots).WaitAsync(timeout, _options.TimeProvider).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
        }
        await _closing.CancelAsync().ConfigureAwait(false);
        while (_queue.Reader.TryRead(out WorkItem? left))
            left.Result.TrySetException(new PoolShutdownException($"pool {Name} shut down before the task reached a worker"));
        await _heartbeat.DisposeAsync().ConfigureAwait(false);
        WorkerProcess[] workers;
        lock (_gate) workers = [.. _workers];
        await Task.WhenAll(workers.Select(w => w.StopAsync(_options.StopSignal, _options.KillTimeout, "the pool shut down"))).ConfigureAwait(false);
        foreach (WorkerProcess w in workers) Raise(PoolWorkerEventKind.Stopped, w, "shutdown");
        _metrics.Dispose();
        PoolLog.ShutDown(_logger, Name);
    }

    /// <summary><see cref="ShutdownAsync"/> with <see cref="PoolOptions.ShutdownTimeout"/>.</summary>
    public async ValueTask DisposeAsync() => await ShutdownAsync(_options.ShutdownTimeout).ConfigureAwait(false);

    private void Raise(PoolWorkerEventKind kind, WorkerProcess worker, string reason)
    {
        EventHandler<PoolWorkerEvent>? handler = WorkerEvent;
        if (handler is null) return;
        var e = new PoolWorkerEvent(kind, Name, worker.Id, worker.Pid, reason, _options.TimeProvider.GetUtcNow());
        try
        {
            handler(this, e);
        }
        catch (Exception ex)
        {
            PoolLog.HandlerFailed(_logger, Name, ex);
        }
    }
}
