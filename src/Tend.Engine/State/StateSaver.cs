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
    // Apps in the file on disk: -1 while unknown (a file this daemon has not read or written).
    private int _appsOnDisk;
    private volatile bool _emptyAllowed;
    private bool _emptyRefusalLogged;
    // The apps of the last write: state.json.bak is rotated only when they change, so it holds the
    // previous list of apps rather than the same list with the pids before the last restart.
    private string? _lastApps;
    private bool _frozen; // under _writeLock: a hand-over wrote the last state; nothing after it

    public StateSaver(string path, Func<PersistedState> snapshot, ILogger logger)
    {
        _path = path;
        _snapshot = snapshot;
        _logger = logger;
        _appsOnDisk = File.Exists(path) || File.Exists(path + ".bak") ? -1 : 0;
        _loop = Task.Run(LoopAsync);
    }

    /// <summary>What the daemon read at start: how many apps the file on disk declares.</summary>
    public void OnDiskHas(int apps)
    {
        lock (_writeLock) _appsOnDisk = apps;
    }

    /// <summary>
    /// An explicit `tend delete` emptied the list: the next save may write it empty. Otherwise an empty
    /// list never replaces a file that declares apps (or one this daemon could not read): a daemon that
    /// came up with nothing, through a wrong home or a corrupt file, must not erase what boot restores
    /// (PM2's dump overwritten with [] at reboot).
    /// </summary>
    public void AllowEmpty() => _emptyAllowed = true;

    /// <summary>An app was declared: from now on an empty list needs another explicit delete.</summary>
    public void Declared() => _emptyAllowed = false;

    public void Request()
    {
        // Already dirty: the pending write will take the newest snapshot. (Checked first rather than
        // catching SemaphoreFullException: every instance change requests a save, and an exception
        // each time cost more than the save.) Two callers may both see 0; one Release then throws.
        if (_dirty.CurrentCount > 0) return;
        try { _dirty.Release(); }
        catch (SemaphoreFullException) { }
    }

    /// <summary>
    /// Hand-over: write the state now, and nothing more until <see cref="Unfreeze"/>: the next daemon
    /// reads exactly this. False when it could not be written.
    /// </summary>
    public bool Freeze()
    {
        lock (_writeLock)
        {
            bool written = WriteNow();
            _frozen = written;
            return written;
        }
    }

    public void Unfreeze()
    {
        lock (_writeLock) _frozen = false;
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
            if (_frozen) return true;
            try
            {
                PersistedState state = _snapshot();
                if (state.Apps.Count == 0 && _appsOnDisk != 0 && !_emptyAllowed)
                {
                    if (!_emptyRefusalLogged) StateLog.EmptyKept(_logger, _path, _appsOnDisk < 0 ? "apps this daemon did not read" : $"{_appsOnDisk} apps");
                    _emptyRefusalLogged = true;
                    return true;
                }
                string apps = string.Join('\n', state.Apps.Select(a => a.Spec.Name));
                StateFile.Write(_path, state, keepBackup: apps != _lastApps);
                _lastApps = apps;
                _appsOnDisk = state.Apps.Count;
                if (state.Apps.Count > 0) _emptyRefusalLogged = false;
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
