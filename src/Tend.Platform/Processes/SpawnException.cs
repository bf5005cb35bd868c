namespace Tend.Processes;

/// <summary>A child could not be started (or adopted). Carries the errno that explains why.</summary>
public sealed class SpawnException : Exception
{
    public SpawnException(string fileName, int errno, string? detail = null)
        : base(FormatMessage(fileName, errno, detail))
    {
        FileName = fileName;
        Errno = errno;
    }

    private SpawnException(string fileName, int errno, string message, bool _)
        : base(message)
    {
        FileName = fileName;
        Errno = errno;
    }

    /// <summary>For <see cref="ChildProcess.Adopt"/>, where nothing is started.</summary>
    internal static SpawnException ForAdopt(int pid, int errno, string call) =>
        new($"pid {pid}", errno, $"cannot adopt pid {pid}: {Interop.Sys.StrError(errno)} ({call})", false);

    /// <summary>The program as it was requested.</summary>
    public string FileName { get; }

    /// <summary>The errno value (ENOENT = 2, EACCES = 13, ...).</summary>
    public int Errno { get; }

    private static string FormatMessage(string fileName, int errno, string? detail)
    {
        string text = $"cannot start '{fileName}': {Interop.Sys.StrError(errno)}";
        return detail is null ? text : $"{text} ({detail})";
    }
}
