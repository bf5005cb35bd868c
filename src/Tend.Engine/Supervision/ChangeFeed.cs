namespace Tend.Supervision;

/// <summary>
/// "Something in the supervisor's state changed": the one signal that code waiting for a condition
/// (a dependency ready, a rollout's new instance ready, a canary staying healthy) subscribes to, so
/// nothing in the engine polls. A waiter takes <see cref="Next"/> first, then looks at the state, then
/// awaits the task it took: a change between looking and waiting completes that task, so none is missed.
/// </summary>
internal sealed class ChangeFeed
{
    private TaskCompletionSource _next = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes at the next <see cref="Publish"/> after it was read.</summary>
    public Task Next => Volatile.Read(ref _next).Task;

    public void Publish() =>
        Interlocked.Exchange(ref _next, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();

    /// <summary>
    /// Waits until <paramref name="check"/> returns a result (non-null), looking again after every
    /// change. With a <paramref name="limit"/>, returns null once that much time has passed.
    /// </summary>
    public async Task<T?> WaitAsync<T>(Func<T?> check, TimeSpan limit, TimeProvider time, CancellationToken ct)
        where T : class
    {
        long started = time.GetTimestamp();
        while (true)
        {
            Task next = Next;
            if (check() is { } result) return result;
            if (limit == Timeout.InfiniteTimeSpan)
            {
                await next.WaitAsync(ct).ConfigureAwait(false);
                continue;
            }
            TimeSpan left = limit - time.GetElapsedTime(started);
            if (left <= TimeSpan.Zero) return null;
            try
            {
                await next.WaitAsync(left, time, ct).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                // Looked at once more at the top, then the limit decides.
            }
        }
    }
}
