using System.Buffers;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace Tend.Logs;

// The byte path from a read chunk to the file: line splitting, the carry of a partial line,
// the output buffer, rotation and truncation. Everything here runs under _sync.
public sealed partial class LogWriter
{
    private enum OutputMode { Raw, Stamped, Json }

    private readonly OutputMode _mode;
    /// <summary>Index i holds "path.i"; index 0 is unused.</summary>
    private readonly string[] _rotatedPaths;

    private LogFile? _file;
    /// <summary>Bytes in the file as far as this writer knows: its size when opened plus what we wrote.</summary>
    private long _fileSize;
    /// <summary>True while the open file is a regular file, MaxSizeBytes is set and renaming works.</summary>
    private bool _canRotate;

    private byte[]? _out;
    private int _pending;
    private int _pendingLines;
    private long _lastFlushTimestamp;
    private bool _flushTimerArmed;

    /// <summary>"2026-11-21T14:08:24.123Z " for the current chunk, formatted once per millisecond.</summary>
    private readonly byte[] _stamp = new byte[LogTimestamp.Length + 1];
    private long _stampMillis = long.MinValue;

    /// <summary>The start of a line whose newline has not arrived yet, and the time its first byte came.</summary>
    private byte[] _carry = [];
    private int _carryLength;
    private readonly byte[] _carryStamp = new byte[LogTimestamp.Length + 1];
    private DateTimeOffset _carryTime;

    /// <summary>Scratch buffers grown for one giant line are dropped afterwards if bigger than this.</summary>
    private const int RetainedScratchBytes = 1024 * 1024;

    private static ReadOnlySpan<byte> SplitMarkerBytes => " [tend: line continues]"u8;

    // AggressiveOptimization here and on the chunk handler: these run for the daemon's whole life and
    // must be fast from the first megabyte, not after tiered compilation gets around to them.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void ProcessChunk(ReadOnlySpan<byte> data, DateTimeOffset now)
    {
        long millis = now.UtcTicks / TimeSpan.TicksPerMillisecond;
        if (millis != _stampMillis)
        {
            _stampMillis = millis;
            LogTimestamp.Format(now, _stamp);
            _stamp[LogTimestamp.Length] = (byte)' ';
        }

        if (_carryLength > 0)
        {
            int nl = data.IndexOf((byte)'\n');
            if (nl < 0)
            {
                AppendCarry(data);
                return;
            }
            AppendCarry(data[..nl]);
            FinishCarryLocked();
            data = data[(nl + 1)..];
        }

        if (_mode != OutputMode.Json && !HasListeners)
            data = CopyCompleteLines(data);

        while (true)
        {
            int nl = data.IndexOf((byte)'\n');
            if (nl < 0) break;
            EmitLine(data[..(nl + 1)], hasNewline: true, _stamp, now);
            data = data[(nl + 1)..];
        }

        if (!data.IsEmpty)
        {
            _stamp.CopyTo(_carryStamp, 0);
            _carryTime = now;
            AppendCarry(data);
        }
    }

    /// <summary>
    /// The hot loop (text format, nobody subscribed): copies complete lines, each behind the
    /// stamp, straight into the output buffer while they fit in it and under the rotation limit.
    /// Returns what is left for the general path: a line that needs a flush or a rotation first,
    /// and the partial line at the end.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private ReadOnlySpan<byte> CopyCompleteLines(ReadOnlySpan<byte> data)
    {
        byte[] buffer = _out ??= ArrayPool<byte>.Shared.Rent(OutputBufferSize);
        long room = buffer.Length;
        if (_canRotate) room = Math.Min(room, Spec.MaxSizeBytes - _fileSize);
        ReadOnlySpan<byte> stamp = _mode == OutputMode.Stamped ? _stamp : default;
        int pending = _pending, lines = 0;

        if (stamp.IsEmpty)
        {
            // Bytes pass through untouched: everything up to the last newline in one copy.
            int last = data.LastIndexOf((byte)'\n');
            if (last >= 0 && pending + last + 1 <= room)
            {
                data[..(last + 1)].CopyTo(buffer.AsSpan(pending));
                pending += last + 1;
                lines = data[..(last + 1)].Count((byte)'\n');
                data = data[(last + 1)..];
            }
        }
        else
        {
            while (true)
            {
                int nl = data.IndexOf((byte)'\n');
                if (nl < 0 || pending + stamp.Length + nl + 1 > room) break;
                Span<byte> dst = buffer.AsSpan(pending, stamp.Length + nl + 1);
                stamp.CopyTo(dst);
                data[..(nl + 1)].CopyTo(dst[stamp.Length..]);
                pending += dst.Length;
                lines++;
                data = data[(nl + 1)..];
            }
        }
        _pending = pending;
        _pendingLines += lines;
        return data;
    }

    private void AppendCarry(ReadOnlySpan<byte> data)
    {
        int max = MaxLineBytes;
        while (_carryLength + data.Length > max)
        {
            // Too long to keep whole: emit the first MaxLineBytes as a marked piece. The rest
            // keeps the original time so the pieces sort together.
            int take = max - _carryLength;
            EnsureCarryCapacity(max + SplitMarkerBytes.Length);
            data[..take].CopyTo(_carry.AsSpan(_carryLength));
            SplitMarkerBytes.CopyTo(_carry.AsSpan(max));
            EmitLine(_carry.AsSpan(0, max + SplitMarkerBytes.Length), hasNewline: false, _carryStamp, _carryTime);
            _carryLength = 0;
            data = data[take..];
        }
        EnsureCarryCapacity(_carryLength + data.Length);
        data.CopyTo(_carry.AsSpan(_carryLength));
        _carryLength += data.Length;
    }

    private void EnsureCarryCapacity(int needed)
    {
        if (_carry.Length >= needed) return;
        int size = (int)Math.Min(Math.Max(BitOperations.RoundUpToPowerOf2((uint)needed), 4096u),
            (uint)(MaxLineBytes + SplitMarkerBytes.Length));
        Array.Resize(ref _carry, Math.Max(size, needed));
    }

    private void FinishCarryLocked()
    {
        if (_carryLength == 0) return;
        EmitLine(_carry.AsSpan(0, _carryLength), hasNewline: false, _carryStamp, _carryTime);
        _carryLength = 0;
        // A 16 MiB carry buffer should not outlive the one giant line that needed it.
        if (_carry.Length > RetainedScratchBytes) _carry = [];
    }

    /// <param name="line">The line's bytes, ending with '\n' when <paramref name="hasNewline"/>.</param>
    private void EmitLine(ReadOnlySpan<byte> line, bool hasNewline, ReadOnlySpan<byte> stamp, DateTimeOffset time)
    {
        if (HasListeners)
            Publish(hasNewline ? line[..^1] : line, time);

        switch (_mode)
        {
            case OutputMode.Raw:
                Append(default, line, addNewline: !hasNewline);
                break;
            case OutputMode.Stamped:
                Append(stamp, line, addNewline: !hasNewline);
                break;
            default:
                Append(default, FormatJson(hasNewline ? line[..^1] : line, stamp[..LogTimestamp.Length]), addNewline: false);
                if (_json.Length > RetainedScratchBytes) _json = [];
                break;
        }
    }

    private void Append(ReadOnlySpan<byte> prefix, ReadOnlySpan<byte> body, bool addNewline)
    {
        int total = prefix.Length + body.Length + (addNewline ? 1 : 0);
        if (_canRotate && _fileSize + _pending + total > Spec.MaxSizeBytes && _fileSize + _pending > 0)
            RotateLocked();

        byte[] buffer = _out ??= ArrayPool<byte>.Shared.Rent(OutputBufferSize);
        if (total > buffer.Length - _pending)
        {
            FlushLocked(release: false);
            if (total > buffer.Length)
            {
                WriteDirectLocked(prefix, body, addNewline, total);
                return;
            }
        }
        Span<byte> dst = buffer.AsSpan(_pending, total);
        prefix.CopyTo(dst);
        body.CopyTo(dst[prefix.Length..]);
        if (addNewline) dst[^1] = (byte)'\n';
        _pending += total;
        _pendingLines++;
    }

    /// <summary>A line bigger than the output buffer goes straight to the file (the buffer was just flushed).</summary>
    private void WriteDirectLocked(ReadOnlySpan<byte> prefix, ReadOnlySpan<byte> body, bool addNewline, int total)
    {
        if (!EnsureOpenLocked())
        {
            DropLines(1);
            return;
        }
        try
        {
            _file!.Write(prefix);
            _file.Write(body);
            if (addNewline) _file.Write("\n"u8);
            _fileSize += total;
        }
        catch (IOException)
        {
            DropLines(1);
            CloseFileAfterErrorLocked();
        }
    }

    private void FlushLocked(bool release)
    {
        if (_pending > 0)
        {
            if (EnsureOpenLocked())
            {
                try
                {
                    _file!.Write(_out.AsSpan(0, _pending));
                    _fileSize += _pending;
                }
                catch (IOException)
                {
                    // A write that failed halfway may leave a torn line in the file; the whole
                    // batch is counted as dropped.
                    DropLines(_pendingLines);
                    CloseFileAfterErrorLocked();
                }
            }
            else
            {
                DropLines(_pendingLines);
            }
            _pending = 0;
            _pendingLines = 0;
        }
        _lastFlushTimestamp = _time.GetTimestamp();
        if (release && _out is not null)
        {
            ArrayPool<byte>.Shared.Return(_out);
            _out = null;
        }
    }

    private void DropLines(int count)
    {
        Interlocked.Add(ref _droppedLines, count);
        Counters?.AddDropped(count);
    }

    /// <summary>Opens the file if it is not open; false (and nothing thrown) if that fails.</summary>
    private bool EnsureOpenLocked()
    {
        if (_file is not null) return true;
        try
        {
            _file = LogFile.Open(Path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
        _fileSize = _file.Length;
        _canRotate = Spec.MaxSizeBytes > 0 && _file.IsRegular;
        return true;
    }

    /// <summary>The next flush reopens: the file may have been deleted or the disk remounted.</summary>
    private void CloseFileAfterErrorLocked()
    {
        _file?.Dispose();
        _file = null;
    }

    private void RotateLocked()
    {
        FlushLocked(release: false);
        // Renaming while our descriptor is still open: if the rename fails we simply keep
        // appending to the same file (and stop trying), instead of losing it.
        try
        {
            if (_rotatedPaths.Length <= 1)
            {
                File.Delete(Path);
            }
            else
            {
                File.Delete(_rotatedPaths[^1]);
                for (int i = _rotatedPaths.Length - 2; i >= 1; i--)
                {
                    if (File.Exists(_rotatedPaths[i]))
                        File.Move(_rotatedPaths[i], _rotatedPaths[i + 1], overwrite: true);
                }
                File.Move(Path, _rotatedPaths[1], overwrite: true);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _canRotate = false;
            return;
        }
        _file?.Dispose();
        _file = null;
        _fileSize = 0;
        EnsureOpenLocked();
    }

    private void CloseLocked()
    {
        FlushLocked(release: true);
        _file?.Dispose();
        _file = null;
        _closed = true;
        _flushTimer?.Dispose();
    }

    /// <summary>
    /// `tend reloadLogs` (PM2's): what is buffered goes to the file open now, which is then closed and
    /// the path opened again. A file that logrotate (or anyone) moved away keeps what was written
    /// to it, and the lines from here on go to a new file at the path. Safe while the reader runs.
    /// </summary>
    public void Reopen()
    {
        lock (_sync)
        {
            if (_closed) return;
            FlushLocked(release: false);
            _file?.Dispose();
            _file = null;
            EnsureOpenLocked();
        }
    }

    /// <summary>
    /// `tend flush`: empties the current file and deletes the rotated ones. Lines still in the
    /// buffer are discarded with them (not counted as dropped); a line in progress is kept.
    /// Safe to call while the reader runs, and after it stopped.
    /// </summary>
    public void Truncate()
    {
        lock (_sync)
        {
            _pending = 0;
            _pendingLines = 0;
            if (_file is not null)
            {
                try
                {
                    _file.Truncate();
                    _fileSize = 0;
                    _canRotate = Spec.MaxSizeBytes > 0 && _file.IsRegular;
                }
                catch (IOException)
                {
                    CloseFileAfterErrorLocked();
                }
            }
            TruncateFiles(Path);
        }
    }

    /// <summary>
    /// Moves a non-empty <paramref name="path"/> out of the way as path.1 (shifting path.1.. up, the
    /// oldest beyond <paramref name="maxFiles"/> dropped), as a rotation would, so the next writer
    /// starts an empty file: a new app that takes the name of a deleted one must not show that one's
    /// lines as its own. The old lines stay on disk; at least one previous file is always kept.
    /// </summary>
    public static void RotateAway(string path, int maxFiles)
    {
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists || info.Length == 0 || info.LinkTarget is not null) return;
            int keep = Math.Max(maxFiles, 2);
            File.Delete($"{path}.{keep - 1}");
            for (int i = keep - 2; i >= 1; i--)
            {
                if (File.Exists($"{path}.{i}")) File.Move($"{path}.{i}", $"{path}.{i + 1}", overwrite: true);
            }
            File.Move(path, $"{path}.1", overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Then the new app appends to the old file: nothing is lost, it only reads back mixed.
        }
    }

    /// <summary>
    /// Empties <paramref name="path"/> (if it exists and is a regular file) and deletes its rotated
    /// siblings path.1, path.2…: for `tend flush` of an app that is not running.
    /// </summary>
    public static void TruncateFiles(string path)
    {
        LogFile.TruncateIfExists(path);
        // Every path.N, not just up to max_files: the limit may have been lowered since.
        string? dir = System.IO.Path.GetDirectoryName(path);
        string name = System.IO.Path.GetFileName(path);
        if (string.IsNullOrEmpty(dir) || !Directory.Exists(dir)) return;
        foreach (string rotated in Directory.EnumerateFiles(dir, name + ".*"))
        {
            // The pattern also matches "name" itself (".*" may match nothing), hence the length check.
            ReadOnlySpan<char> file = System.IO.Path.GetFileName(rotated.AsSpan());
            if (file.Length <= name.Length + 1 || file[name.Length] != '.') continue;
            ReadOnlySpan<char> suffix = file[(name.Length + 1)..];
            if (suffix.ContainsAnyExceptInRange('0', '9')) continue;
            try
            {
                File.Delete(rotated);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
            }
        }
    }
}
