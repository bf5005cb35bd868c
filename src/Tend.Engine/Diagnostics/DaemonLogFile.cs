using Tend.Io;

namespace Tend.Diagnostics;

/// <summary>
/// daemon.log: appended with O_APPEND (stdout and stderr of a detached daemon write to it too),
/// rotated by size (daemon.log.1 … .N), and never a reason for the daemon to fail. A write that
/// fails (a full disk) is counted as a dropped line and the next one is tried again; a line is
/// always written whole with one write(2), so a failure cannot leave half a line behind that the
/// next line continues. After a rotation fds 1 and 2 are pointed at the new file when the daemon
/// runs detached, so a runtime crash report lands where `tend` looks.
/// </summary>
public sealed class DaemonLogFile : Stream
{
    private readonly string _path;
    private readonly long _maxBytes;
    private readonly int _keep;
    private readonly bool _redirectStdio;
    private readonly Lock _gate = new();
    private AppendFile? _file;
    private long _size;
    private long _dropped;
    private bool _lineOpen; // a failed write left part of a line: the next write starts a new one

    private DaemonLogFile(string path, AppendFile file, long size, long maxBytes, int keep, bool redirectStdio)
    {
        _path = path;
        _file = file;
        _size = size;
        _maxBytes = maxBytes;
        _keep = keep;
        _redirectStdio = redirectStdio;
    }

    /// <summary>Lines that could not be written (ENOSPC, EIO), since the daemon started.</summary>
    public long DroppedLines => Interlocked.Read(ref _dropped);

    /// <summary>Opens (creating 0600, never through a symlink) for appending; throws IOException when it cannot.</summary>
    /// <param name="redirectStdio">Point fds 1 and 2 at the file, now and after each rotation (a detached daemon).</param>
    public static DaemonLogFile Open(string path, long maxBytes = 10 * 1024 * 1024, int keep = 3, bool redirectStdio = false)
    {
        AppendFile file = OpenFile(path);
        long size = new FileInfo(path).Length;
        var log = new DaemonLogFile(path, file, size, maxBytes, keep, redirectStdio);
        if (redirectStdio) log.RedirectStdio();
        return log;
    }

    private static AppendFile OpenFile(string path) => AppendFile.OpenOrCreate(path, 0x180 /* 0600 */);

    private void RedirectStdio()
    {
        _file?.DuplicateOnto(1);
        _file?.DuplicateOnto(2);
    }

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        lock (_gate)
        {
            if (_size > 0 && _size + buffer.Length > _maxBytes) RotateLocked();
            if (_file is not { } file) return; // disposed
            if (_lineOpen)
            {
                if (file.WriteOnce(s_newline) != 1)
                {
                    Interlocked.Increment(ref _dropped);
                    return;
                }
                _lineOpen = false;
                _size++;
            }
            long written = file.WriteOnce(buffer);
            if (written == buffer.Length)
            {
                _size += written;
                return;
            }
            // Full disk: O_APPEND made this a short write or none. A partial line is cut off by
            // a newline so the next line starts clean; the line counts as dropped.
            if (written > 0)
            {
                // Take the fragment back off the end (it is ours: our writes hold the lock), so
                // the file never has half a line; if that fails, end it with a newline later.
                long end = file.Status()?.Size ?? -1;
                if (end < written || !file.TryTruncate(end - written))
                {
                    _size += written;
                    if (file.WriteOnce(s_newline) == 1) _size++;
                    else _lineOpen = true;
                }
            }
            Interlocked.Increment(ref _dropped);
        }
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    private static readonly byte[] s_newline = [(byte)'\n'];

    private void RotateLocked()
    {
        try
        {
            File.Delete($"{_path}.{_keep}");
            for (int i = _keep - 1; i >= 1; i--)
            {
                if (File.Exists($"{_path}.{i}")) File.Move($"{_path}.{i}", $"{_path}.{i + 1}", overwrite: true);
            }
            File.Move(_path, $"{_path}.1", overwrite: true);
            AppendFile fresh = OpenFile(_path);
            _file?.Dispose();
            _file = fresh;
            _size = 0;
            if (_redirectStdio) RedirectStdio();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Keep appending to the file we have; the next line tries again.
            _size = 0;
        }
    }

    public override void Flush() { }
    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => _size;
    public override long Position { get => _size; set => throw new NotSupportedException(); }
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        lock (_gate)
        {
            _file?.Dispose();
            _file = null;
        }
        base.Dispose(disposing);
    }
}
