using System.Globalization;
using System.Text;

namespace Tend.Runtime;

/// <summary>
/// Where a .NET process listens for diagnostics: every .NET Core runtime (unless started with
/// <c>DOTNET_EnableDiagnostics=0</c>) creates the Unix socket
/// <c>dotnet-diagnostic-{pid}-{key}-socket</c> in its temp directory shortly after it starts. The
/// key is the process's start time in clock ticks since boot (field 22 of /proc/pid/stat), the same
/// figure Tend keeps for every child, so a leftover socket of an earlier process that had the same
/// pid is told apart from the live one (on a busy machine /tmp holds thousands of those). The temp directory is the process's own <c>TMPDIR</c>
/// (read from /proc/pid/environ: an app may have been given one of its own), else /tmp.
/// Looking costs one read of environ and one stat of the exact name; a process that is not .NET
/// simply has no socket, and that is the whole test.
/// </summary>
public static class DiagnosticSocket
{
    /// <summary>The socket of the process (<paramref name="pid"/>, <paramref name="startTime"/>), or null when it has none.</summary>
    public static string? Find(int pid, ulong startTime)
    {
        string dir = TempDirectoryOf(pid);
        string exact = Path.Combine(dir, string.Create(CultureInfo.InvariantCulture, $"dotnet-diagnostic-{pid}-{startTime}-socket"));
        // Only the exact name: /tmp keeps the sockets of every .NET process that died without
        // cleaning up, and one of them may carry our pid. Taking "the newest with this pid", as the
        // diagnostics tools do, would attach to a dead socket, or call a non-.NET process .NET.
        return File.Exists(exact) ? exact : null;
    }

    /// <summary>The TMPDIR in the process's environment (as it was at exec), else /tmp.</summary>
    public static string TempDirectoryOf(int pid)
    {
        byte[] environ;
        try { environ = File.ReadAllBytes(string.Create(CultureInfo.InvariantCulture, $"/proc/{pid}/environ")); }
        catch (IOException) { return "/tmp"; }
        catch (UnauthorizedAccessException) { return "/tmp"; }
        return TempDirectoryFrom(environ);
    }

    /// <summary>TMPDIR from the NUL-separated NAME=value list of /proc/pid/environ, else /tmp.</summary>
    public static string TempDirectoryFrom(ReadOnlySpan<byte> environ)
    {
        ReadOnlySpan<byte> key = "TMPDIR="u8;
        while (!environ.IsEmpty)
        {
            int end = environ.IndexOf((byte)0);
            ReadOnlySpan<byte> entry = end < 0 ? environ : environ[..end];
            if (entry.StartsWith(key) && entry.Length > key.Length)
                return Encoding.UTF8.GetString(entry[key.Length..]);
            environ = end < 0 ? [] : environ[(end + 1)..];
        }
        return "/tmp";
    }
}
