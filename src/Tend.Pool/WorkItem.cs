using System.Text.Json;

namespace Tend.Pool;

/// <summary>One task between <see cref="ProcessPool.InvokeAsync{TRequest, TResult}(TRequest, CancellationToken)"/> and a worker.</summary>
internal sealed class WorkItem(byte[] body, CancellationToken caller, long enqueuedAt)
{
    private readonly Lock _gate = new();
    private WorkerProcess? _worker;
    private long _id;
    private bool _started, _cancelled;

    public byte[] Body { get; } = body;
    public CancellationToken Caller { get; } = caller;
    public long EnqueuedAt { get; } = enqueuedAt;
    public TaskCompletionSource<JsonDocument> Result { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>A worker is about to send it; false if the caller gave up while it waited.</summary>
    public bool TryStart()
    {
        lock (_gate)
        {
            if (_cancelled || Result.Task.IsCompleted) return false;
            _started = true;
            return true;
        }
    }

    /// <summary>Sent to <paramref name="worker"/> as task <paramref name="id"/>; a cancel that came meanwhile is passed on.</summary>
    public void Sent(WorkerProcess worker, long id)
    {
        bool cancelNow;
        lock (_gate)
        {
            _worker = worker;
            _id = id;
            cancelNow = _cancelled;
        }
        if (cancelNow) _ = worker.CancelAsync(id);
    }

    /// <summary>The caller's token fired: the task is over for the caller; a worker running it is told.</summary>
    public void CancelByCaller()
    {
        WorkerProcess? worker;
        long id;
        lock (_gate)
        {
            _cancelled = true;
            worker = _started ? _worker : null;
            id = _id;
        }
        Result.TrySetCanceled(Caller);
        if (worker is not null) _ = worker.CancelAsync(id);
    }
}
