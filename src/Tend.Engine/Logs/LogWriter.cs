using System.Runtime.CompilerServices;
using Tend.Config;

namespace Tend.Logs;

/// <summary>
/// Copies one output stream (stdout or stderr) of one instance from its pipe into a log file.
/// </summary>
/// <remarks>
/// <para>
/// Reading runs on a dedicated thread doing blocking reads, not on the thread pool: a chatty
/// child must never wait for a pool thread, and a pipe read cannot be made truly async on Linux
/// without epoll plumbing that buys nothing here. The thread has a small stack and is a
/// background thread, so a grandchild that keeps the pipe open never keeps the daemon alive.
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
public sealed partial class LogWriter : IAsyncDisposable, IDisposable
{
    /// <summary>Bytes per read(2) once a stream has filled a small read: the default Linux pipe capacity.</summary>
    internal const int ReadBufferSize = 64 * 1024;
    /// <summary>
    /// The first read buffer. Most instances log little, and each holds two of these for its whole
    /// run (100 quiet instances held 12.5 MiB of 64 KiB buffers); a stream that fills one gets
    /// <see cref="ReadBufferSize"/> from then on.
    /// </summary>
    internal const int InitialReadBufferSize = 4 * 1024;
    /// <summary>Output buffer, rented while data is pending and returned when the pipe drains.</summary>
    internal const int OutputBufferSize = 256 * 1024;
    public const int DefaultMaxLineBytes = 16 * 1024 * 1024;
    /// <summary>Appended to each piece of a line that was longer than <see cref="MaxLineBytes"/>, except the last.</summary>
    public const string SplitMarker = " [tend: line continues]";

    private const int PumpStackSize = 256 * 1024;
    private static readonly TimeSpan s_flushInterval = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan s_dropReportInterval = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan s_disposeDrainTimeout = TimeSpan.FromSeconds(1);

    private readonly TimeProvider _time;
    private readonly Action<long>? _onDroppedLines;
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    /// <summary>Guards the output buffer, the file and the carry; held by the pump once per chunk.</summary>
    private readonly Lock _sync = new();
    private readonly Lock _reportSync = new();

    private Stream? _source;
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
    /// Called from the pump thread with the running total of dropped lines, at most once a second
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
    /// Starts pumping <paramref name="source"/> (the read end of the child's pipe) on a dedicated
    /// thread. The writer owns the stream from now on and disposes it at end of file.
    /// </summary>
    public void Start(Stream source)
    {
        ArgumentNullException.ThrowIfNull(source);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (Interlocked.Exchange(ref _started, 1) != 0)
            throw new InvalidOperationException("This log writer was already started.");

        _source = source;
        // Open now so the file exists (and `tend logs` finds it) before the first line arrives.
        lock (_sync) EnsureOpenLocked();
        _flushTimer = _time.CreateTimer(static s => ((LogWriter)s!).OnFlushTimer(), this,
            Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        var thread = new Thread(Pump, PumpStackSize)
        {
            IsBackground = true,
            Name = $"tend log {App}#{Instance} {(Stream == LogStream.Out ? "out" : "err")}",
        };
        thread.Start();
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Pump()
    {
        var source = _source!;
        byte[] readBuffer = new byte[InitialReadBufferSize];
        try
        {
            while (true)
            {
                int n;
                try
                {
                    n = source.Read(readBuffer, 0, readBuffer.Length);
                }
                catch (Exception e) when (e is IOException or ObjectDisposedException or OperationCanceledException)
                {
                    n = 0; // a broken pipe ends the stream like EOF does
                }
                if (n == 0) break;

                // One clock read per chunk: every complete line in it gets this time.
                DateTimeOffset now = _time.GetUtcNow();
                lock (_sync)
                {
                    if (_closed) continue; // disposed early: drain and discard so the holder never blocks
                    // Newlines counted over the chunk (vectorized) rather than in the line paths, which are several.
                    Counters?.AddRead(readBuffer.AsSpan(0, n).Count((byte)'\n'), n);
                    ProcessChunk(readBuffer.AsSpan(0, n), now);
                    if (n < readBuffer.Length)
                        FlushLocked(release: true); // the pipe is drained: let `tail -f` see it now
                    else if (_pending > 0 && _time.GetElapsedTime(_lastFlushTimestamp) >= s_flushInterval)
                        FlushLocked(release: false);
                    else if (_pending > 0 && !_flushTimerArmed)
                    {
                        // A full read and then silence would otherwise leave lines waiting in the buffer.
                        _flushTimerArmed = true;
                        _flushTimer!.Change(s_flushInterval, Timeout.InfiniteTimeSpan);
                    }
                }
                ReportDroppedLines(final: false);
                if (n == readBuffer.Length && readBuffer.Length < ReadBufferSize)
                    readBuffer = new byte[ReadBufferSize]; // a chatty stream: full-size reads from now on
            }

            lock (_sync)
            {
                if (!_closed)
                {
                    FinishCarryLocked();
                    CloseLocked();
                }
            }
            ReportDroppedLines(final: true);
            CompleteSubscribers();
            _completion.TrySetResult();
        }
        catch (Exception e)
        {
            lock (_sync) CloseLocked();
            CompleteSubscribers();
            _completion.TrySetException(e);
        }
        finally
        {
            source.Dispose();
        }
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
            // The callback belongs to the daemon's logging; it must not stop the pump.
        }
    }

    /// <summary>Writes out buffered lines now (the pump also does this by itself).</summary>
    public void Flush()
    {
        lock (_sync)
        {
            if (!_closed) FlushLocked(release: true);
        }
    }

    /// <summary>
    /// Waits up to a second for the pump to reach end of file, then flushes and closes the file.
    /// If something still holds the pipe open (a grandchild), the pump thread keeps reading it in
    /// the background and discards what it reads, so that holder never blocks on a full pipe.
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
                // A faulted pump already closed everything; Completion carries the error.
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
