using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Tend.Config;
using Tend.Io;

namespace Tend.Logs;

/// <summary>
/// Copies one output stream (stdout or stderr) of one instance from its pipe into a log file.
/// </summary>
/// <remarks>
/// <para>
/// No thread of its own: the pipe sits in the process's one epoll set (<see cref="PipeDrain"/>), and
/// a pool thread reads it when it is readable, until it is empty. So a daemon with a hundred
/// instances has two hundred pipes and no thread per pipe, and a grandchild that keeps a pipe open
/// keeps nothing alive but one descriptor in that set.
/// </para>
/// <para>
/// The hot path works on bytes only: one clock read and one timestamp format per read chunk,
/// lines found with a vectorized IndexOf, copied into a large output buffer that is written with
/// write(2) when the pipe is drained, when it is full, or at the latest ~200 ms after data arrived.
/// Strings are only made when a live subscriber exists.
/// </para>
/// <para>
/// Writing never stops reading: when the file cannot be written (disk full, permissions, the
/// directory removed), the lines are counted in <see cref="DroppedLines"/>, the callback hears
/// about it at most once a second, and the next chunk tries again, reopening the file.
/// </para>
/// <para>
/// A line longer than <see cref="MaxLineBytes"/> (16 MiB by default) without a newline is written
/// as several lines: every piece but the last ends with <see cref="SplitMarker"/>. Below that
/// size a line is always written whole with one prefix, however many reads it took to arrive.
/// </para>
/// </remarks>
public sealed partial class LogWriter : IAsyncDisposable, IDisposable, IPipeSink
{
    /// <summary>Bytes per read(2): the default Linux pipe capacity. Buffers are rented per turn, so a quiet
    /// instance holds none.</summary>
    internal const int ReadBufferSize = PipeDrain.ReadBufferSize;
    /// <summary>Output buffer, rented while data is pending and returned when the pipe drains.</summary>
    internal const int OutputBufferSize = 256 * 1024;
    public const int DefaultMaxLineBytes = 16 * 1024 * 1024;
    /// <summary>Appended to each piece of a line that was longer than <see cref="MaxLineBytes"/>, except the last.</summary>
    public const string SplitMarker = " [tend: line continues]";

    private static readonly TimeSpan s_flushInterval = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan s_dropReportInterval = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan s_disposeDrainTimeout = TimeSpan.FromSeconds(1);

    private readonly TimeProvider _time;
    private readonly Action<long>? _onDroppedLines;
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    /// <summary>Guards the output buffer, the file and the carry; held by the reader once per chunk.</summary>
    private readonly Lock _sync = new();
    private readonly Lock _reportSync = new();

    private PipeDrain? _drain;
    private ITimer? _flushTimer;
    private int _started;
    private int _disposed;
    /// <summary>Set under <see cref="_sync"/> once the file is closed for good.</summary>
    private bool _closed;

    private long _droppedLines;
    private long _reportedDroppedLines;
    private long _lastDropReportTimestamp;

    /// <param name="app">The app name, written into json lines and <see cref="LogLine"/>s.</param>
    /// <param name="instance">The instance number.</param>
    /// <param name="stream">Which stream this writer copies.</param>
    /// <param name="path">The absolute path of the log file (see <see cref="LogPaths"/>).</param>
    /// <param name="spec">Timestamps, format and rotation; the file names in it are not used here.</param>
    /// <param name="timeProvider">Source of the timestamps and of the flush timer.</param>
    /// <param name="onDroppedLines">
    /// Called from the reading thread with the running total of dropped lines, at most once a second
    /// while drops continue, and once more at the end if the total changed since the last call.
    /// </param>
    public LogWriter(string app, int instance, LogStream stream, string path, LogSpec spec,
        TimeProvider timeProvider, Action<long>? onDroppedLines = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(app);
        ArgumentOutOfRangeException.ThrowIfNegative(instance);
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(timeProvider);
        if (!System.IO.Path.IsPathFullyQualified(path))
            throw new ArgumentException($"The log path must be absolute: {path}", nameof(path));

        App = app;
        Instance = instance;
        Stream = stream;
        Path = path;
        Spec = spec;
        _time = timeProvider;
        _onDroppedLines = onDroppedLines;
        _mode = spec.Format == LogFormat.Json ? OutputMode.Json
            : spec.Timestamps ? OutputMode.Stamped : OutputMode.Raw;
        _rotatedPaths = new string[Math.Max(spec.MaxFiles, 1)];
        for (int i = 1; i < _rotatedPaths.Length; i++) _rotatedPaths[i] = $"{path}.{i}";
        _jsonMiddle = BuildJsonMiddle(app, instance, stream);
    }

    public string App { get; }
    public int Instance { get; }
    public LogStream Stream { get; }
    public string Path { get; }
    public LogSpec Spec { get; }

    /// <summary>
    /// Lines longer than this are split (see the remarks). At least one read buffer (64 KiB), since
    /// only lines that span reads are measured: a line inside one read is never split.
    /// </summary>
    public int MaxLineBytes
    {
        get;
        init => field = value >= ReadBufferSize ? value
            : throw new ArgumentOutOfRangeException(nameof(value), $"at least {ReadBufferSize}");
    } = DefaultMaxLineBytes;

    /// <summary>Lines that could not be written (thread-safe running total).</summary>
    public long DroppedLines => Interlocked.Read(ref _droppedLines);

    /// <summary>Where lines and bytes read and lines dropped are also added (metrics; outlives this writer).</summary>
    public Metrics.LogCounters? Counters { get; init; }

    /// <summary>
    /// Completes when the pipe reached end of file and every line was written and the file closed,
    /// or when the writer was disposed. Faults only on a bug, never on an I/O error.
    /// </summary>
    public Task Completion => _completion.Task;

    /// <summary>
    /// Starts copying <paramref name="source"/> (the non-blocking read end of the child's pipe). The
    /// writer owns the handle from now on and closes it at end of file.
    /// </summary>
    /// <exception cref="IOException">The pipe could not be watched (epoll_ctl failed); the caller still owns it.</exception>
    public void Start(SafeHandle source)
    {
        ArgumentNullException.ThrowIfNull(source);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (Interlocked.Exchange(ref _started, 1) != 0)
            throw new InvalidOperationException("This log writer was already started.");

        // Open now so the file exists (and `tend logs` finds it) before the first line arrives.
        lock (_sync) EnsureOpenLocked();
        _flushTimer = _time.CreateTimer(static s => ((LogWriter)s!).OnFlushTimer(), this,
            Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        _drain = PipeDrain.Start(source, this);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    void IPipeSink.OnData(ReadOnlySpan<byte> chunk)
    {
        // One clock read per chunk: every complete line in it gets this time.
        DateTimeOffset now = _time.GetUtcNow();
        lock (_sync)
        {
            if (_closed) return; // disposed early: drain and discard so the holder never blocks
            // Newlines counted over the chunk (vectorized) rather than in the line paths, which are several.
            Counters?.AddRead(chunk.Count((byte)'\n'), chunk.Length);
            ProcessChunk(chunk, now);
            if (_pending > 0 && _time.GetElapsedTime(_lastFlushTimestamp) >= s_flushInterval)
                FlushLocked(release: false);
            else if (_pending > 0 && !_flushTimerArmed)
            {
                // A stream that never pauses would otherwise leave lines waiting in the buffer.
                _flushTimerArmed = true;
                _flushTimer!.Change(s_flushInterval, Timeout.InfiniteTimeSpan);
            }
        }
        ReportDroppedLines(final: false);
    }

    void IPipeSink.OnDrained()
    {
        lock (_sync)
        {
            if (!_closed) FlushLocked(release: true); // the pipe is drained: let `tail -f` see it now
        }
    }

    void IPipeSink.OnEnd(Exception? fault)
    {
        lock (_sync)
        {
            if (!_closed)
            {
                if (fault is null) FinishCarryLocked();
                CloseLocked();
            }
        }
        ReportDroppedLines(final: true);
        CompleteSubscribers();
        if (fault is null) _completion.TrySetResult();
        else _completion.TrySetException(fault);
    }

    private void OnFlushTimer()
    {
        lock (_sync)
        {
            _flushTimerArmed = false;
            if (!_closed) FlushLocked(release: true);
        }
    }

    private void ReportDroppedLines(bool final)
    {
        lock (_reportSync) ReportDroppedLinesLocked(final);
    }

    private void ReportDroppedLinesLocked(bool final)
    {
        long dropped = Interlocked.Read(ref _droppedLines);
        if (dropped == _reportedDroppedLines || _onDroppedLines is null) return;
        if (!final && _lastDropReportTimestamp != 0 && _time.GetElapsedTime(_lastDropReportTimestamp) < s_dropReportInterval)
            return;
        _reportedDroppedLines = dropped;
        _lastDropReportTimestamp = _time.GetTimestamp();
        try
        {
            _onDroppedLines(dropped);
        }
        catch
        {
            // The callback belongs to the daemon's logging; it must not stop the reading.
        }
    }

    /// <summary>
    /// For a hand-over to the next daemon: stops reading the pipe (what is not read stays in it, for the
    /// next daemon to read), writes out everything read so far, a line without its newline yet
    /// included, and returns the pipe, still open and still this writer's.
    /// </summary>
    public SafeHandle? PauseForHandOver()
    {
        SafeHandle? pipe = _drain?.Pause();
        lock (_sync)
        {
            if (!_closed)
            {
                FinishCarryLocked();
                FlushLocked(release: true);
            }
        }
        return pipe;
    }

    /// <summary>A hand-over that did not happen: read the pipe again.</summary>
    public void ResumeAfterHandOver() => _drain?.Resume();

    /// <summary>Writes out buffered lines now (the writer also does this by itself).</summary>
    public void Flush()
    {
        lock (_sync)
        {
            if (!_closed) FlushLocked(release: true);
        }
    }

    /// <summary>
    /// Waits up to a second for the pipe to reach end of file, then flushes and closes the file.
    /// If something still holds the pipe open (a grandchild), the pipe stays in the epoll set and
    /// what arrives is read and discarded, so that holder never blocks on a full pipe.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        if (Volatile.Read(ref _started) != 0)
        {
            try
            {
                await _completion.Task.WaitAsync(s_disposeDrainTimeout, _time).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
            }
            catch
            {
                // A faulted writer already closed everything; Completion carries the error.
            }
        }
        lock (_sync)
        {
            if (!_closed)
            {
                FinishCarryLocked();
                CloseLocked();
            }
        }
        _flushTimer?.Dispose();
        ReportDroppedLines(final: true);
        CompleteSubscribers();
        _completion.TrySetResult();
    }

    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();
}
