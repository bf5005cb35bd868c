using System.Runtime.InteropServices;

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
    private int _fd;
    private long _size;
    private long _dropped;
    private bool _lineOpen; // a failed write left part of a line: the next write starts a new one

    private DaemonLogFile(string path, int fd, long size, long maxBytes, int keep, bool redirectStdio)
    {
        _path = path;
        _fd = fd;
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
        int fd = OpenFd(path);
        long size = new FileInfo(path).Length;
        var log = new DaemonLogFile(path, fd, size, maxBytes, keep, redirectStdio);
        if (redirectStdio) log.RedirectStdio();
        return log;
    }

    private static int OpenFd(string path)
    {
        int fd = Interop.Sys.Open(path, Interop.Sys.O_WRONLY | Interop.Sys.O_CREAT | Interop.Sys.O_APPEND | Interop.Sys.O_CLOEXEC | Interop.Sys.O_NOFOLLOW, 0x180 /* 0600 */);
        if (fd < 0) throw Interop.Sys.GetIOException(Marshal.GetLastPInvokeError(), path);
        return fd;
    }

    private void RedirectStdio()
    {
        Interop.Sys.Dup2(_fd, 1);
        Interop.Sys.Dup2(_fd, 2);
    }

    public override unsafe void Write(ReadOnlySpan<byte> buffer)
    {
        lock (_gate)
        {
            if (_size > 0 && _size + buffer.Length > _maxBytes) RotateLocked();
            if (_lineOpen)
            {
                byte newline = (byte)'\n';
                if (Interop.Sys.Write(_fd, &newline, 1) != 1)
                {
                    Interlocked.Increment(ref _dropped);
                    return;
                }
                _lineOpen = false;
                _size++;
            }
            fixed (byte* p = buffer)
            {
                nint written;
                do written = Interop.Sys.Write(_fd, p, (nuint)buffer.Length);
                while (written < 0 && Marshal.GetLastPInvokeError() == Interop.Sys.EINTR);
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
                    long end = FileSize(_fd);
                    if (end < written || Interop.Sys.FTruncate(_fd, end - written) != 0)
                    {
                        _size += written;
                        byte newline = (byte)'\n';
                        if (Interop.Sys.Write(_fd, &newline, 1) == 1) _size++;
                        else _lineOpen = true;
                    }
                }
                Interlocked.Increment(ref _dropped);
            }
        }
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    private static long FileSize(int fd) => FileStatus.TryOf(fd, out FileStatus s) ? s.Size : -1;

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
            int fd = OpenFd(_path);
            Interop.Sys.Close(_fd);
            _fd = fd;
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
            if (_fd >= 0) Interop.Sys.Close(_fd);
            _fd = -1;
        }
        base.Dispose(disposing);
    }
}
