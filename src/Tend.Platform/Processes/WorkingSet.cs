using System.Globalization;

namespace Tend.Processes;

/// <summary>What one <see cref="WorkingSet.Trim"/> gave back, in bytes of resident memory.</summary>
/// <param name="Before">This process's RSS before.</param>
/// <param name="After">Its RSS right after (code pages come back as they are used again).</param>
/// <param name="FilePages">Resident pages of read-only file mappings that were let go.</param>
public readonly record struct WorkingSetTrim(long Before, long After, long FilePages);

/// <summary>
/// Gives back the memory a long-running process touched once, at its start or in a burst of
/// work, and does not use again: what Windows calls emptying the working set.
///
/// Two parts. The GC heap: an aggressive full collection, which compacts and returns every free
/// region to the kernel. The files mapped read-only (the executable's code and constant data,
/// shared libraries, ReadyToRun assemblies): dropped from this process's page tables with
/// <c>madvise(MADV_DONTNEED)</c>. They are clean pages of their files, so nothing is lost: they
/// stay in the page cache, and a page used again is mapped back by a minor fault, the kernel's
/// fault-around mapping its neighbours with it. What stays resident is what the process keeps
/// running. A mapping that can be written, or that holds a private copy of any page (read-only
/// data relocated at load), is never touched: dropping a written page would lose the write.
/// </summary>
public static class WorkingSet
{
    /// <summary>Trims this process's working set (a few milliseconds: one full GC and one read of /proc/self/smaps).</summary>
    public static WorkingSetTrim Trim()
    {
        long before = ResidentBytes();
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        long pages = 0;
        foreach (Mapping m in ReadOnlyFileMappings())
        {
            if (Interop.Sys.Madvise((nint)m.Start, (nuint)(m.End - m.Start), Interop.Sys.MADV_DONTNEED) == 0)
                pages += m.ResidentKiB * 1024 / Environment.SystemPageSize;
        }
        return new WorkingSetTrim(before, ResidentBytes(), pages);
    }

    /// <summary>VmRSS of this process, in bytes (0 when unreadable).</summary>
    public static long ResidentBytes()
    {
        try
        {
            foreach (string line in File.ReadLines("/proc/self/status"))
            {
                if (!line.StartsWith("VmRSS:", StringComparison.Ordinal)) continue;
                return KiB(line) * 1024;
            }
        }
        catch (IOException) { }
        return 0;
    }

    internal readonly record struct Mapping(ulong Start, ulong End, string Path, long ResidentKiB);

    /// <summary>
    /// This process's mappings of files (not [heap], [stack], anonymous memory or memfd's JIT code)
    /// without write permission and whose every resident page is the file's own (smaps
    /// "Anonymous: 0 kB"), read from /proc/self/smaps.
    /// </summary>
    internal static List<Mapping> ReadOnlyFileMappings()
    {
        var found = new List<Mapping>();
        ulong start = 0, end = 0;
        string file = "";
        long rss = 0;
        bool candidate = false;
        try
        {
            foreach (string line in File.ReadLines("/proc/self/smaps"))
            {
                if (IsHeader(line, out ulong s, out ulong e, out string perms, out string path))
                {
                    (start, end, file, rss) = (s, e, path, 0);
                    candidate = perms.Length >= 2 && perms[1] != 'w' && path.StartsWith('/') && !path.StartsWith("/memfd:", StringComparison.Ordinal);
                }
                else if (!candidate) continue;
                else if (line.StartsWith("Rss:", StringComparison.Ordinal)) rss = KiB(line);
                else if (line.StartsWith("Anonymous:", StringComparison.Ordinal))
                {
                    // The last field this needs; a private copy of any page rules the mapping out.
                    if (KiB(line) == 0 && rss > 0) found.Add(new Mapping(start, end, file, rss));
                    candidate = false;
                }
            }
        }
        catch (IOException) { }
        return found;
    }

    /// <summary>"start-end perms offset dev inode [path]": the one kind of smaps line whose first field holds a '-'.</summary>
    private static bool IsHeader(string line, out ulong start, out ulong end, out string perms, out string path)
    {
        start = end = 0;
        perms = path = "";
        int dash = line.IndexOf('-');
        int space = line.IndexOf(' ');
        if (dash <= 0 || space < dash) return false;
        if (!ulong.TryParse(line.AsSpan(0, dash), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out start)) return false;
        if (!ulong.TryParse(line.AsSpan(dash + 1, space - dash - 1), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out end)) return false;
        string[] f = line.Split(' ', 6, StringSplitOptions.RemoveEmptyEntries);
        if (f.Length < 5) return false;
        perms = f[1];
        path = f.Length == 6 ? f[5].Trim() : "";
        return true;
    }

    private static long KiB(string line)
    {
        string[] f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return f.Length >= 2 && long.TryParse(f[1], NumberStyles.None, CultureInfo.InvariantCulture, out long v) ? v : 0;
    }
}
