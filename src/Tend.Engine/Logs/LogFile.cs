using System.Runtime.InteropServices;

namespace Tend.Logs;

/// <summary>
/// An open log file: an O_APPEND | O_CLOEXEC descriptor, mode 0640 when created.
/// Not thread-safe; <see cref="LogWriter"/> only touches it under its lock.
/// </summary>
internal sealed class LogFile : IDisposable
{
    private const int CreateMode = 0b110_100_000; // 0640

    private int _fd;

    private LogFile(int fd, string path, bool isRegular, long length)
    {
        _fd = fd;
        Path = path;
        IsRegular = isRegular;
        Length = length;
    }

    public string Path { get; }

    /// <summary>False for /dev/null, a FIFO, a terminal…: those are never rotated or truncated.</summary>
    public bool IsRegular { get; }

    /// <summary>The size when opened. O_APPEND means other writers may grow it behind our back.</summary>
    public long Length { get; }

    /// <summary>Opens (creating the directory and the file if needed) for appending.</summary>
    public static LogFile Open(string path)
    {
        if (System.IO.Path.GetDirectoryName(path) is { Length: > 0 } dir)
            Directory.CreateDirectory(dir);
        // O_NOFOLLOW: a symlink planted at a log path must not make the daemon (often root) append
        // an app's output to somebody else's file.
        return Open(path, Interop.Sys.O_WRONLY | Interop.Sys.O_CREAT | Interop.Sys.O_APPEND | Interop.Sys.O_CLOEXEC | Interop.Sys.O_NOFOLLOW);
    }

    /// <summary>Cuts an existing regular file to zero bytes; does nothing if it is missing or not a regular file.</summary>
    public static void TruncateIfExists(string path)
    {
        // No O_CREAT: a missing file stays missing. O_NONBLOCK: opening a FIFO nobody reads
        // fails with ENXIO instead of hanging `tend flush`.
        try
        {
            // O_NOFOLLOW: `tend flush` must never truncate the file a planted symlink points at.
            using var file = Open(path, Interop.Sys.O_WRONLY | Interop.Sys.O_NONBLOCK | Interop.Sys.O_CLOEXEC | Interop.Sys.O_NOFOLLOW);
            file.Truncate();
        }
        catch (IOException)
        {
        }
    }

    private static LogFile Open(string path, int flags)
    {
        int fd;
        do fd = Interop.Sys.Open(path, flags, CreateMode);
        while (fd < 0 && Marshal.GetLastPInvokeError() == Interop.Sys.EINTR);
        if (fd < 0) throw Interop.Sys.GetIOException(Marshal.GetLastPInvokeError(), path);

        var (isRegular, length) = Stat(fd);
        return new LogFile(fd, path, isRegular, length);
    }

    // Unknown: treat like a device, i.e. never rotate it.
    private static (bool IsRegular, long Length) Stat(int fd) =>
        FileStatus.TryOf(fd, out FileStatus s) ? (s.IsRegular, s.Size) : (false, 0);

    /// <summary>Writes everything or throws <see cref="IOException"/> (ENOSPC, EIO, EDQUOT…).</summary>
    public unsafe void Write(ReadOnlySpan<byte> data)
    {
        ObjectDisposedException.ThrowIf(_fd < 0, this);
        fixed (byte* p = data)
        {
            nuint done = 0, total = (nuint)data.Length;
            while (done < total)
            {
                nint n = Interop.Sys.Write(_fd, p + done, total - done);
                if (n < 0)
                {
                    int errno = Marshal.GetLastPInvokeError();
                    if (errno == Interop.Sys.EINTR) continue;
                    throw Interop.Sys.GetIOException(errno, Path);
                }
                done += (nuint)n;
            }
        }
    }

    /// <summary>Cuts the file to zero bytes; with O_APPEND the next write lands at offset 0.</summary>
    public void Truncate()
    {
        ObjectDisposedException.ThrowIf(_fd < 0, this);
        if (!IsRegular) return;
        if (Interop.Sys.FTruncate(_fd, 0) != 0)
            throw Interop.Sys.GetIOException(Marshal.GetLastPInvokeError(), Path);
    }

    public void Dispose()
    {
        int fd = _fd;
        _fd = -1;
        // close(2) must not be retried on EINTR on Linux: the descriptor is gone either way.
        if (fd >= 0) Interop.Sys.Close(fd);
    }
}
