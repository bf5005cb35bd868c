using Microsoft.Extensions.Logging;

namespace Tend.State;

/// <summary>
/// Persists the declared state after every change without making the change wait for the disk:
/// <see cref="Request"/> marks the state dirty and a single background loop writes the newest
/// snapshot. Bursts (a hundred instances starting) coalesce into a few writes. The window in
/// which a SIGKILLed daemon can lose a change is one write (a few milliseconds).
/// </summary>
internal sealed class StateSaver : IAsyncDisposable
{
    private readonly string _path;
    private readonly Func<PersistedState> _snapshot;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _dirty = new(0, 1);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private readonly Lock _writeLock = new();

    public StateSaver(string path, Func<PersistedState> snapshot, ILogger logger)
    {
        _path = path;
        _snapshot = snapshot;
        _logger = logger;
        _loop = Task.Run(LoopAsync);
    }

    public void Request()
    {
        // Already dirty: the pending write will take the newest snapshot. (Checked first rather than
        // catching SemaphoreFullException: every instance change requests a save, and an exception
        // each time cost more than the save.) Two callers may both see 0; one Release then throws.
        if (_dirty.CurrentCount > 0) return;
        try { _dirty.Release(); }
        catch (SemaphoreFullException) { }
    }

    /// <summary>Write the current state now (shutdown).</summary>
    public Task FlushAsync()
    {
        _ = WriteNow();
        return Task.CompletedTask;
    }

    private async Task LoopAsync()
    {
        try
        {
            TimeSpan retry = s_firstRetry;
            while (true)
            {
                await _dirty.WaitAsync(_stop.Token).ConfigureAwait(false);
                // A failed save (a full disk) is tried again by itself, with backoff, until it
                // succeeds: the daemon recovers when space returns without anyone touching it.
                while (!WriteNow())
                {
                    if (await _dirty.WaitAsync(retry, _stop.Token).ConfigureAwait(false)) retry = s_firstRetry;
                    else retry = TimeSpan.FromTicks(Math.Min(retry.Ticks * 2, s_maxRetry.Ticks));
                }
                retry = s_firstRetry;
            }
        }
        catch (OperationCanceledException) { }
    }

    private static readonly TimeSpan s_firstRetry = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan s_maxRetry = TimeSpan.FromSeconds(30);

    /// <summary>True when the state is on disk.</summary>
    private bool WriteNow()
    {
        lock (_writeLock)
        {
            try
            {
                StateFile.Write(_path, _snapshot(), keepBackup: false);
                return true;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                StateLog.SaveFailed(_logger, _path, ex.Message);
                return false;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        await _loop.ConfigureAwait(false);
        _ = WriteNow();
        _stop.Dispose();
    }
}
