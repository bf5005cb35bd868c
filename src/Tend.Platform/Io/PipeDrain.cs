using System.Diagnostics;
using System.Buffers;
using System.Runtime.InteropServices;

namespace Tend.Io;

/// <summary>What a <see cref="PipeDrain"/> hands its reader. Called on a thread-pool thread, never two at
/// once for one pipe, so an implementation needs no lock against itself.</summary>
public interface IPipeSink
{
    /// <summary>One read(2) worth of bytes; the span is only valid during the call.</summary>
    void OnData(ReadOnlySpan<byte> data);

    /// <summary>The pipe is empty for now (EAGAIN): a good moment to flush.</summary>
    void OnDrained();

    /// <summary>End of file, a read error (as EOF), or <see cref="PipeDrain.Dispose"/>; or, with
    /// <paramref name="fault"/>, an exception thrown by <see cref="OnData"/> or <see cref="OnDrained"/>.
    /// Called exactly once, last.</summary>
    void OnEnd(Exception? fault);
}

/// <summary>
/// Reads the non-blocking read end of a pipe whenever the <see cref="EpollLoop"/> says it is readable,
/// until end of file, without a thread of its own: the loop thread only notices readiness (one-shot) and
/// queues the reading to the thread pool, which reads until the pipe is empty and re-arms. So a daemon
/// with a hundred instances has two hundred pipes in one epoll set and no thread per pipe, and a slow
/// disk under one log file delays only that pipe, never the loop.
/// </summary>
/// <remarks>
/// One turn reads at most <see cref="MaxReadsPerTurn"/> buffers before re-arming, so a child that writes
/// without pause shares the pool with everyone else. The drain owns the handle and closes it at the end.
/// A child writing one short line at a time would otherwise get a turn per line (a wake-up, a read, a
/// flush to the log file and an epoll_ctl for each 100 bytes): when a turn found little and the one
/// before it ended less than <see cref="CoalesceWindow"/> ago, the pipe is armed again only after that
/// window, so the lines gather in the pipe (1 MiB) and the next turn reads them in large blocks. A
/// quiet pipe is armed again at once: its next line is read as soon as it is written. So is a pipe
/// whose writer is fast (what the turn found, at the rate it came, would fill a quarter of the pipe
/// within the window): waiting would block it on a full pipe, where reading at once keeps up.
/// </remarks>
public sealed class PipeDrain : IDisposable
{
    /// <summary>Bytes per read(2): the default Linux pipe capacity.</summary>
    public const int ReadBufferSize = 64 * 1024;
    private const int MaxReadsPerTurn = 16;
    /// <summary>Below this many bytes a turn counts as "found little".</summary>
    private const int SmallTurnBytes = 16 * 1024;
    private static readonly TimeSpan CoalesceWindow = TimeSpan.FromMilliseconds(2);

    private readonly SafeHandle _pipe;
    private readonly IPipeSink _sink;
    private EpollRegistration _registration = null!;
    /// <summary>Held for a whole turn: a turn queued by <see cref="Dispose"/> waits for the one in progress.</summary>
    private readonly Lock _turn = new();
    private int _ended;
    private int _stopRequested;
    private bool _paused; // under _turn
    private long _lastTurnEnded;
    private Timer? _rearmLater;
    /// <summary>What may gather in the pipe during a coalescing window: a quarter of its capacity.</summary>
    private int _coalesceBytes;

    private PipeDrain(SafeHandle pipe, IPipeSink sink)
    {
        _pipe = pipe;
        _sink = sink;
    }

    /// <summary>Starts draining <paramref name="pipe"/> (already O_NONBLOCK) into <paramref name="sink"/>.</summary>
    /// <exception cref="IOException">The pipe could not be added to the loop; nothing was started and
    /// the caller still owns the handle.</exception>
    public static PipeDrain Start(SafeHandle pipe, IPipeSink sink, EpollLoop? loop = null)
    {
        ArgumentNullException.ThrowIfNull(pipe);
        ArgumentNullException.ThrowIfNull(sink);
        var drain = new PipeDrain(pipe, sink);
        int capacity = Interop.Sys.Fcntl(pipe, Interop.Sys.F_GETPIPE_SZ, 0);
        drain._coalesceBytes = (capacity > 0 ? capacity : ReadBufferSize) / 4;
        // The pipe may be readable (or hung up) already, so a turn can be queued before Watch returns:
        // the turn takes this lock first, and so sees the registration set.
        lock (drain._turn) drain._registration = (loop ?? EpollLoop.Shared).Watch(pipe, EpollMode.OneShot, drain.OnReadable);
        return drain;
    }

    private void OnReadable(EpollRegistration registration) =>
        ThreadPool.UnsafeQueueUserWorkItem(static drain => drain.ReadTurn(), this, preferLocal: false);

    private void ReadTurn()
    {
        lock (_turn)
        {
            if (Volatile.Read(ref _ended) == 0 && !_paused) ReadTurnLocked();
        }
    }

    /// <summary>
    /// Stops reading without closing: once this returns, no turn is running and none will read until
    /// <see cref="Resume"/>, so every byte not yet read stays in the pipe. How a daemon hands a live
    /// pipe to its next version (the handle returned is still the drain's; only keep it open across execve).
    /// </summary>
    public SafeHandle Pause()
    {
        lock (_turn)
        {
            _paused = true;
            _rearmLater?.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        }
        return _pipe;
    }

    /// <summary>Reads again after <see cref="Pause"/> (a hand-over that did not happen).</summary>
    public void Resume()
    {
        lock (_turn)
        {
            if (!_paused) return;
            _paused = false;
            if (Volatile.Read(ref _ended) == 0) Rearm();
        }
    }

    private unsafe void ReadTurnLocked()
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(ReadBufferSize);
        long bytes = 0;
        try
        {
            for (int i = 0; i < MaxReadsPerTurn; i++)
            {
                if (Volatile.Read(ref _stopRequested) != 0)
                {
                    End();
                    return;
                }
                nint n;
                try
                {
                    fixed (byte* p = buffer)
                    {
                        n = Interop.Sys.Read(_pipe, p, (nuint)ReadBufferSize);
                    }
                }
                catch (ObjectDisposedException)
                {
                    n = 0;
                }
                if (n < 0)
                {
                    int errno = Marshal.GetLastPInvokeError();
                    if (errno == Interop.Sys.EINTR) continue;
                    if (errno == Interop.Sys.EAGAIN)
                    {
                        _sink.OnDrained();
                        long now = Stopwatch.GetTimestamp();
                        double since = (now - _lastTurnEnded) / (double)Stopwatch.Frequency;
                        _lastTurnEnded = now;
                        // Small, soon after the last turn, and from a writer slow enough that a window's
                        // worth of its output fits: wait. (bytes arrived in about `since` seconds.)
                        bool coalesce = bytes < SmallTurnBytes && since < CoalesceWindow.TotalSeconds
                            && bytes * CoalesceWindow.TotalSeconds < _coalesceBytes * Math.Max(since, 10e-6);
                        if (coalesce) RearmLater();
                        else Rearm();
                        return;
                    }
                    n = 0; // any other error ends the stream like EOF does
                }
                if (n == 0)
                {
                    End();
                    return;
                }
                bytes += n;
                _sink.OnData(buffer.AsSpan(0, (int)n));
            }
            Rearm(); // a busy pipe: let the others have the pool, then come back at once
        }
        catch (Exception e)
        {
            // A bug in the sink: it hears about it, and the pool thread (and the daemon) live on.
            End(e);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private void Rearm()
    {
        if (_registration.Rearm() != 0) End();
    }

    /// <summary>Under _turn: arms the pipe again once <see cref="CoalesceWindow"/> has passed.</summary>
    private void RearmLater()
    {
        _rearmLater ??= new Timer(static state =>
        {
            var drain = (PipeDrain)state!;
            lock (drain._turn)
            {
                if (Volatile.Read(ref drain._ended) == 0 && Volatile.Read(ref drain._stopRequested) == 0 && !drain._paused) drain.Rearm();
            }
        }, this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        _rearmLater.Change(CoalesceWindow, Timeout.InfiniteTimeSpan);
    }

    private void End(Exception? fault = null)
    {
        if (Interlocked.Exchange(ref _ended, 1) != 0) return;
        _rearmLater?.Dispose();
        _registration.Dispose();
        _pipe.Dispose();
        _sink.OnEnd(fault);
    }

    /// <summary>Stops reading: the sink's <see cref="IPipeSink.OnEnd"/> runs now, or when a turn in progress finishes.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _stopRequested, 1) != 0) return;
        // Out of the loop first: no new turn can start. A turn running now sees the flag (or the closed
        // handle) and ends; otherwise end here.
        _registration.Dispose();
        ThreadPool.UnsafeQueueUserWorkItem(static drain => drain.ReadTurn(), this, preferLocal: false);
    }
}
