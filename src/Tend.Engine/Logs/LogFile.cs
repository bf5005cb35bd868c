using Tend.Io;

namespace Tend.Logs;

/// <summary>
/// An open log file: appended through the platform's <see cref="AppendFile"/> (O_APPEND, O_CLOEXEC,
/// never through a symlink), mode 0640 when created. Not thread-safe; <see cref="LogWriter"/> only
/// touches it under its lock.
/// </summary>
internal sealed class LogFile : IDisposable
{
    private const int CreateMode = 0b110_100_000; // 0640

    private readonly AppendFile _file;
    private bool _disposed;

    private LogFile(AppendFile file)
    {
        _file = file;
        // Unknown: treat like a device, i.e. never rotate it.
        (IsRegular, Length) = file.Status() ?? (false, 0);
    }

    public string Path => _file.Path;

    /// <summary>False for /dev/null, a FIFO, a terminal…: those are never rotated or truncated.</summary>
    public bool IsRegular { get; }

    /// <summary>The size when opened. O_APPEND means other writers may grow it behind our back.</summary>
    public long Length { get; }

    /// <summary>Opens (creating the directory and the file if needed) for appending.</summary>
    public static LogFile Open(string path)
    {
        if (System.IO.Path.GetDirectoryName(path) is { Length: > 0 } dir)
            Directory.CreateDirectory(dir);
        return new LogFile(AppendFile.OpenOrCreate(path, CreateMode));
    }

    /// <summary>Cuts an existing regular file to zero bytes; does nothing if it is missing or not a regular file.</summary>
    public static void TruncateIfExists(string path)
    {
        try
        {
            // `tend flush` never truncates the file a planted symlink points at, never creates one,
            // and never hangs on a FIFO nobody reads (AppendFile.OpenExisting).
            using var file = new LogFile(AppendFile.OpenExisting(path));
            file.Truncate();
        }
        catch (IOException)
        {
        }
    }

    /// <summary>Writes everything or throws <see cref="IOException"/> (ENOSPC, EIO, EDQUOT…).</summary>
    public void Write(ReadOnlySpan<byte> data)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        _file.WriteAll(data);
    }

    /// <summary>Cuts the file to zero bytes; with O_APPEND the next write lands at offset 0.</summary>
    public void Truncate()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (IsRegular) _file.Truncate(0);
    }

    public void Dispose()
    {
        _disposed = true;
        _file.Dispose();
    }
}
