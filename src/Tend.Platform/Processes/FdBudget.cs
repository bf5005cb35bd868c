using System.Globalization;

namespace Tend.Processes;

/// <summary>
/// Keeps a reserve of file descriptors for the daemon's own work. Each instance costs a few
/// (pidfd, two pipes, log files, a notify socket); when a spawn would leave fewer than
/// <see cref="Reserve"/> free under RLIMIT_NOFILE, it is refused as a failed start with a clear
/// reason instead of taking the last descriptors the daemon needs to accept a CLI connection,
/// write its state or start a thread (once: an OutOfMemoryException at Thread.Start killed the
/// daemon and leaked a child). Counting /proc/self/fd costs a directory read per spawn (no stat per entry).
/// </summary>
public static class FdBudget
{
    /// <summary>Descriptors kept free for the daemon itself.</summary>
    public const int Reserve = 64;

    /// <summary>What one spawn and its watching can take at most (pipes, pidfd, log files, probes).</summary>
    private const int PerSpawn = 8;

    /// <summary>The soft RLIMIT_NOFILE of this process, from /proc/self/limits; null when unreadable.</summary>
    public static long? Limit()
    {
        try
        {
            foreach (string line in File.ReadLines("/proc/self/limits"))
            {
                if (!line.StartsWith("Max open files", StringComparison.Ordinal)) continue;
                string[] f = line["Max open files".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (f.Length > 0 && long.TryParse(f[0], NumberStyles.None, CultureInfo.InvariantCulture, out long soft)) return soft;
                return null; // "unlimited"
            }
        }
        catch (IOException) { }
        return null;
    }

    /// <summary>
    /// Open descriptors of this process: the entries of /proc/self/fd, read with readdir alone.
    /// Directory.EnumerateFileSystemEntries also stat()s every entry (they are symlinks), and with a
    /// thousand instances (some 4,000 descriptors) that made each spawn cost 8,000 syscalls and the
    /// start of all of them quadratic: 32 s for 1,000 sleepers.
    /// </summary>
    public static unsafe int InUse()
    {
        nint dir = Interop.Sys.OpenDir("/proc/self/fd");
        if (dir == 0) return 0;
        try
        {
            int count = 0;
            for (nint entry = Interop.Sys.ReadDir(dir); entry != 0; entry = Interop.Sys.ReadDir(dir))
            {
                byte* name = (byte*)entry + Interop.Sys.DirentNameOffset;
                if (name[0] == (byte)'.' && (name[1] == 0 || (name[1] == (byte)'.' && name[2] == 0))) continue;
                count++;
            }
            // The descriptor opendir itself holds is one of them.
            return Math.Max(0, count - 1);
        }
        finally
        {
            Interop.Sys.CloseDir(dir);
        }
    }

    /// <summary>How long a count stands for the spawns after it, when it was far from the limit.</summary>
    private static readonly TimeSpan s_countValidFor = TimeSpan.FromMilliseconds(250);

    private static readonly Lock s_gate = new();
    private static long s_countedAt;
    private static int s_counted;
    private static long s_limit;
    private static int s_spawnsSince;

    /// <summary>
    /// Null when a spawn may go ahead; else why not, naming the limit and how to raise it. The limit
    /// and the count are read again for every spawn only near the limit: while the last count (plus
    /// <see cref="PerSpawn"/> for every spawn since) is below half of it, a count stands for a quarter
    /// of a second. Reading /proc/self/fd per spawn (a dentry lookup per descriptor) was a tenth of
    /// the daemon's CPU with 100 exec probes a second.
    /// </summary>
    public static string? Problem()
    {
        long now = System.Diagnostics.Stopwatch.GetTimestamp();
        lock (s_gate)
        {
            s_spawnsSince++;
            long estimate = s_counted + (long)s_spawnsSince * PerSpawn;
            if (s_countedAt != 0 && System.Diagnostics.Stopwatch.GetElapsedTime(s_countedAt, now) < s_countValidFor &&
                s_limit > 0 && estimate + Reserve <= s_limit / 2)
            {
                return null;
            }
        }
        if (Limit() is not long limit) return null;
        int used = InUse();
        lock (s_gate)
        {
            (s_counted, s_limit, s_countedAt, s_spawnsSince) = (used, limit, now, 0);
        }
        if (used + PerSpawn + Reserve <= limit) return null;
        return $"too few file descriptors: {used} of the limit of {limit} are in use and {Reserve} are kept for the daemon; " +
               "raise it (ulimit -n, or LimitNOFILE= in the daemon's systemd unit) and restart the daemon";
    }
}
