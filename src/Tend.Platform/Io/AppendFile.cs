using System.Runtime.InteropServices;

namespace Tend.Io;

/// <summary>
/// A file opened with open(2) for appending: O_APPEND (several writers, an instance's log shared by
/// name or the daemon's stdout and stderr, each land at the real end; .NET's FileMode.Append only
/// seeks once), O_CLOEXEC, and O_NOFOLLOW (a symlink planted at the path must not make the daemon,
/// often root, write into somebody else's file). Not thread-safe: its owner serializes writes.
/// </summary>
public sealed class AppendFile : IDisposable
{
    private readonly SafeFdHandle _fd;

    private AppendFile(SafeFdHandle fd, string path)
    {
        _fd = fd;
        Path = path;
    }

    public string Path { get; }

    /// <summary>Opens for appending, creating it with <paramref name="createMode"/> (e.g. 0640) when missing. Throws IOException.</summary>
    public static AppendFile OpenOrCreate(string path, int createMode) =>
        Open(path, Interop.Sys.O_WRONLY | Interop.Sys.O_CREAT | Interop.Sys.O_APPEND | Interop.Sys.O_CLOEXEC | Interop.Sys.O_NOFOLLOW, createMode);

    /// <summary>
    /// Opens an existing file only to truncate it: no O_CREAT (missing stays missing), O_NONBLOCK
    /// (a FIFO nobody reads fails with ENXIO instead of hanging). Throws IOException.
    /// </summary>
    public static AppendFile OpenExisting(string path) =>
        Open(path, Interop.Sys.O_WRONLY | Interop.Sys.O_NONBLOCK | Interop.Sys.O_CLOEXEC | Interop.Sys.O_NOFOLLOW, 0);

    private static AppendFile Open(string path, int flags, int mode)
    {
        int fd;
        do fd = Interop.Sys.Open(path, flags, mode);
        while (fd < 0 && Marshal.GetLastPInvokeError() == Interop.Sys.EINTR);
        if (fd < 0) throw Interop.Sys.GetIOException(Marshal.GetLastPInvokeError(), path);
        return new AppendFile(new SafeFdHandle(fd), path);
    }

    /// <summary>Whether it is a regular file (not /dev/null, a FIFO, a terminal), and its size now; null when unknown.</summary>
    public (bool IsRegular, long Size)? Status()
    {
        bool added = false;
        try
        {
            _fd.DangerousAddRef(ref added);
            return FileStatus.TryOf(_fd.Fd, out FileStatus s) ? (s.IsRegular, s.Size) : null;
        }
        finally
        {
            if (added) _fd.DangerousRelease();
        }
    }

    /// <summary>Writes everything, retrying short writes and EINTR, or throws IOException (ENOSPC, EIO, EDQUOT…).</summary>
    public unsafe void WriteAll(ReadOnlySpan<byte> data)
    {
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

    /// <summary>One write(2) (retried on EINTR only): the bytes written, which may be fewer than given, or -1.</summary>
    public unsafe long WriteOnce(ReadOnlySpan<byte> data)
    {
        fixed (byte* p = data)
        {
            nint written;
            do written = Interop.Sys.Write(_fd, p, (nuint)data.Length);
            while (written < 0 && Marshal.GetLastPInvokeError() == Interop.Sys.EINTR);
            return written;
        }
    }

    /// <summary>Cuts the file to <paramref name="length"/> bytes; with O_APPEND the next write lands there. Throws IOException.</summary>
    public void Truncate(long length)
    {
        if (!TryTruncate(length)) throw Interop.Sys.GetIOException(Marshal.GetLastPInvokeError(), Path);
    }

    public bool TryTruncate(long length) => Interop.Sys.FTruncate(_fd, length) == 0;

    /// <summary>Points this process's descriptor <paramref name="standardFd"/> (1: stdout, 2: stderr) at this file.</summary>
    public void DuplicateOnto(int standardFd) => _ = Interop.Sys.Dup2(_fd, standardFd);

    /// <summary>close(2), once; never retried on EINTR (on Linux the descriptor is gone either way).</summary>
    public void Dispose() => _fd.Dispose();
}

/// <summary>Durability of directory entries.</summary>
public static class DirectorySync
{
    /// <summary>fsync(2) a directory, so a rename into it survives a crash; best effort (false when it could not).</summary>
    public static bool TrySync(string directory)
    {
        int fd = Interop.Sys.Open(directory, Interop.Sys.O_RDONLY | Interop.Sys.O_CLOEXEC, 0);
        if (fd < 0) return false;
        using var handle = new SafeFdHandle(fd);
        return Interop.Sys.FSync(handle) == 0;
    }
}
