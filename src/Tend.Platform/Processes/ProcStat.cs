using System.Buffers;
using System.Globalization;
using Tend.Io;

namespace Tend.Processes;

/// <summary>Reads /proc/&lt;pid&gt;/stat: start times (to tell a process from a later one that reuses its
/// pid), process groups, and per-process-group resource usage.</summary>
/// <remarks>
/// The second field of the stat line is the command name in parentheses, and that name is chosen
/// by the process: it may contain spaces and ')' itself. Everything after the last ')' is
/// well-formed, so fields are always counted from there.
/// </remarks>
public static class ProcStat
{
    // Field numbers as in proc(5), 1-based.
    private const int FieldState = 3, FieldPpid = 4, FieldPgid = 5, FieldUtime = 14, FieldStime = 15,
        FieldThreads = 20, FieldStartTime = 22, FieldRss = 24;

    private static readonly Lazy<long> s_clockTicks = new(() =>
    {
        long ticks = Interop.Sys.SysConf(Interop.Sys._SC_CLK_TCK);
        return ticks > 0 ? ticks : 100;
    });

    /// <summary>The unit of start times and cpu times (sysconf(_SC_CLK_TCK), normally 100).</summary>
    public static long ClockTicksPerSecond => s_clockTicks.Value;

    /// <summary>Start time of the process in clock ticks since boot, or null if there is no such process.</summary>
    public static ulong? ReadStartTime(int pid)
    {
        Span<byte> buffer = stackalloc byte[StatBufferSize];
        if (!TryReadStat(pid, buffer, out var fields)) return null;
        return ParseULong(fields, FieldStartTime);
    }

    /// <summary>The process group of <paramref name="pid"/> (field 5), or null if there is no such process.
    /// Every child Tend starts leads its own group, so a group id equal to an instance's main pid means
    /// "started by that instance" (unless the process deliberately left the group).</summary>
    public static int? ReadProcessGroup(int pid)
    {
        Span<byte> buffer = stackalloc byte[StatBufferSize];
        if (!TryReadStat(pid, buffer, out var fields)) return null;
        return int.TryParse(GetField(fields, FieldPgid), NumberStyles.None, CultureInfo.InvariantCulture, out int pgid) ? pgid : null;
    }

    /// <summary>The parent of <paramref name="pid"/> (field 4), or null if there is no such process.</summary>
    public static int? ReadParentPid(int pid)
    {
        Span<byte> buffer = stackalloc byte[StatBufferSize];
        if (!TryReadStat(pid, buffer, out var fields)) return null;
        return int.TryParse(GetField(fields, FieldPpid), NumberStyles.None, CultureInfo.InvariantCulture, out int ppid) ? ppid : null;
    }

    /// <summary>The number of threads of <paramref name="pid"/> (field 20), or null if there is no such process.</summary>
    public static long? ReadThreads(int pid)
    {
        Span<byte> buffer = stackalloc byte[StatBufferSize];
        if (!TryReadStat(pid, buffer, out var fields)) return null;
        return (long?)ParseULong(fields, FieldThreads);
    }

    /// <summary>Resident memory of <paramref name="pid"/> in bytes (field 24, in pages), or null if there is no such process.</summary>
    public static long? ReadRssBytes(int pid)
    {
        Span<byte> buffer = stackalloc byte[StatBufferSize];
        if (!TryReadStat(pid, buffer, out var fields)) return null;
        return (long)ParseULong(fields, FieldRss) * Environment.SystemPageSize;
    }

    /// <summary>The number of open file descriptors of <paramref name="pid"/> (entries of /proc/pid/fd), or null when unreadable.</summary>
    public static long? CountOpenFds(int pid)
    {
        try
        {
            long n = 0;
            foreach (string _ in Directory.EnumerateFileSystemEntries($"/proc/{pid}/fd")) n++;
            return n;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
    }

    /// <summary>
    /// The environment <paramref name="pid"/> was started with (/proc/PID/environ: NAME=value entries
    /// separated by NUL), or null when that process is gone, is a later one reusing the pid, or cannot
    /// be read. An entry without '=' is skipped; a repeated name keeps its first value, as getenv(3) finds.
    /// A process inside execve reads as empty for a moment (its new environment is not placed yet, and
    /// a vfork parent such as posix_spawn's runs on before it is): an empty read is tried again, briefly.
    /// </summary>
    public static Dictionary<string, string>? ReadEnvironment(int pid, ulong startTime)
    {
        byte[] environ;
        int attempt = 0;
        while (true)
        {
            try { environ = File.ReadAllBytes($"/proc/{pid}/environ"); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
            if (environ.Length > 0 || ++attempt > 50 || !IsAlive(pid, startTime)) break;
            Thread.Sleep(1);
        }
        // Checked after the read: a pid reused before it would have given another process's environment.
        if (!IsAlive(pid, startTime)) return null;
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (Range range in environ.AsSpan().Split((byte)0))
        {
            ReadOnlySpan<byte> entry = environ.AsSpan()[range];
            int eq = entry.IndexOf((byte)'=');
            if (eq <= 0) continue;
            env.TryAdd(System.Text.Encoding.UTF8.GetString(entry[..eq]), System.Text.Encoding.UTF8.GetString(entry[(eq + 1)..]));
        }
        return env;
    }

    /// <summary>True if <paramref name="pid"/> is the very process that started at <paramref name="startTime"/>
    /// and has not exited (zombies count as exited).</summary>
    public static bool IsAlive(int pid, ulong startTime)
    {
        Span<byte> buffer = stackalloc byte[StatBufferSize];
        if (!TryReadStat(pid, buffer, out var fields)) return false;
        if (ParseULong(fields, FieldStartTime) != startTime) return false;
        return !IsDead(GetField(fields, FieldState));
    }

    /// <summary>
    /// Sums usage per process group (keyed by pgid) over the descendants of this process: every
    /// process Tend started, their children, and orphans reparented to it as a subreaper. Found by
    /// following /proc/PID/task/TID/children from here down, not by reading every process of the
    /// machine: on a host with thousands of processes the pass costs what Tend manages, not what
    /// the host runs. Zombies are skipped; processes that vanish during the walk are not counted.
    /// </summary>
    public static IReadOnlyDictionary<int, GroupUsage> SampleGroups()
    {
        var result = new Dictionary<int, GroupUsage>();
        foreach (ProcessSample p in Descendants(Environment.ProcessId))
        {
            result.TryGetValue(p.Pgid, out var sum);
            result[p.Pgid] = new GroupUsage(sum.RssBytes + p.RssBytes, sum.CpuTicks + p.CpuTicks, sum.Processes + 1);
        }
        return result;
    }

    /// <summary>One live descendant, as its stat file read it.</summary>
    internal readonly record struct ProcessSample(int Pid, int Pgid, long RssBytes, long CpuTicks);

    /// <summary>The live (non-zombie) descendants of <paramref name="root"/>, not itself, depth first.</summary>
    internal static List<ProcessSample> Descendants(int root)
    {
        var found = new List<ProcessSample>();
        long pageSize = Environment.SystemPageSize;
        byte[] buffer = ArrayPool<byte>.Shared.Rent(StatBufferSize);
        var pending = new Stack<int>();
        try
        {
            AddChildren(root, threads: 0, pending, buffer);
            while (pending.TryPop(out int pid))
            {
                if (!TryReadStat(pid, buffer, out var fields)) continue;
                if (IsDead(GetField(fields, FieldState))) continue;
                found.Add(new ProcessSample(pid, (int)ParseLong(fields, FieldPgid),
                    ParseLong(fields, FieldRss) * pageSize, ParseLong(fields, FieldUtime) + ParseLong(fields, FieldStime)));
                AddChildren(pid, ParseLong(fields, FieldThreads), pending, buffer); // last: it reuses the buffer
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
        return found;
    }

    /// <summary>Pushes the children of every thread of <paramref name="pid"/>. A child belongs to the
    /// thread that forked it, so a process with one thread needs one file and others a listing.</summary>
    private static void AddChildren(int pid, long threads, Stack<int> into, byte[] buffer)
    {
        if (threads == 1)
        {
            ReadChildren($"/proc/{pid}/task/{pid}/children", into, buffer);
            return;
        }
        try
        {
            foreach (string task in Directory.EnumerateDirectories($"/proc/{pid}/task"))
                ReadChildren(task + "/children", into, buffer);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The process exited meanwhile: nothing below it to count.
        }
    }

    /// <summary>Reads a children file ("pid pid pid ") into <paramref name="into"/>.</summary>
    private static unsafe void ReadChildren(string path, Stack<int> into, byte[] buffer)
    {
        int fd = Interop.Sys.Open(path, Interop.Sys.O_RDONLY | Interop.Sys.O_CLOEXEC, 0);
        if (fd < 0) return;
        using var handle = new SafeFdHandle(fd);
        int filled = 0;
        while (true)
        {
            nint n;
            fixed (byte* p = buffer) n = Interop.Sys.Read(handle, p + filled, (nuint)(buffer.Length - filled));
            if (n <= 0) break;
            filled += (int)n;
            // A full buffer: take the complete numbers, keep the partial last one for the next read.
            int end = filled == buffer.Length ? buffer.AsSpan(0, filled).LastIndexOf((byte)' ') + 1 : filled;
            if (end <= 0) break; // one number longer than the buffer: not a pid
            Parse(buffer.AsSpan(0, end), into);
            buffer.AsSpan(end, filled - end).CopyTo(buffer);
            filled -= end;
        }
        if (filled > 0) Parse(buffer.AsSpan(0, filled), into);

        static void Parse(ReadOnlySpan<byte> text, Stack<int> into)
        {
            foreach (Range range in text.Split((byte)' '))
            {
                if (int.TryParse(text[range].TrimEnd((byte)'\n'), NumberStyles.None, CultureInfo.InvariantCulture, out int child))
                    into.Push(child);
            }
        }
    }

    /// <summary>
    /// This process's children that no ChildProcess holds (<paramref name="isHeld"/>) and whose
    /// environment has every entry of <paramref name="markers"/> ("NAME=value"): as a subreaper, the
    /// daemon inherits what an instance's processes orphan, and the environment they inherited says
    /// whose they were. Zombies are left out (the reaper collects them).
    /// </summary>
    internal static List<int> MarkedOrphans(IReadOnlyList<string> markers, Func<int, bool> isHeld)
    {
        var found = new List<int>();
        VisitChildren(isHeld, (pid, fields) =>
        {
            if (IsDead(GetField(fields, FieldState))) return false;
            byte[] environ;
            try
            {
                environ = File.ReadAllBytes($"/proc/{pid}/environ");
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return false;
            }
            if (markers.All(m => HasEntry(environ, m))) found.Add(pid);
            return false;
        });
        return found;

        static bool HasEntry(ReadOnlySpan<byte> environ, string entry)
        {
            foreach (Range range in environ.Split((byte)0))
            {
                if (System.Text.Encoding.UTF8.GetString(environ[range]) == entry) return true;
            }
            return false;
        }
    }

    /// <summary>Our children that are zombies, leaving out those <paramref name="skip"/> names
    /// without reading them.</summary>
    internal static List<int> ZombieChildren(Func<int, bool> skip)
    {
        var found = new List<int>();
        VisitChildren(skip, (pid, fields) =>
        {
            ReadOnlySpan<byte> state = GetField(fields, FieldState);
            if (state.Length > 0 && state[0] == (byte)'Z') found.Add(pid);
            return false;
        });
        return found;
    }

    /// <summary>
    /// <see cref="GroupHasOtherMembers"/> for a group whose leader was our child and has exited, in a
    /// process that is a child subreaper: the leader's live descendants were re-parented to us the
    /// moment it exited, so the group's survivors are found among our own children, not among every
    /// process of the machine. Children a ChildProcess holds lead sessions of their own and are not
    /// read. A member whose every ancestor up to the leader left the group first (setpgid within the
    /// session) is not seen: it still got the group's signals.
    /// </summary>
    internal static bool OrphanInGroup(int pgid, Func<int, bool> isHeld)
    {
        bool found = false;
        VisitChildren(pid => pid == pgid || isHeld(pid), (_, fields) =>
        {
            ReadOnlySpan<byte> state = GetField(fields, FieldState);
            if (state.Length > 0 && state[0] == (byte)'X') return false;
            found = ParseLong(fields, FieldPgid) == pgid; // a zombie of ours counts until reaped
            return found;
        });
        return found;
    }

    /// <summary>What <see cref="VisitChildren"/> calls with a child's stat fields (from field 3 on); true stops the walk.</summary>
    private delegate bool ChildVisitor(int pid, ReadOnlySpan<byte> fields);

    /// <summary>Our children, as the kernel lists them per thread, with their stat read, leaving out
    /// those <paramref name="skip"/> names without reading them: what the subreaper's looks cost is
    /// what we have as children, not what the machine runs.</summary>
    private static void VisitChildren(Func<int, bool> skip, ChildVisitor visit)
    {
        var children = new Stack<int>();
        byte[] buffer = ArrayPool<byte>.Shared.Rent(StatBufferSize);
        try
        {
            AddChildren(Environment.ProcessId, threads: 0, children, buffer);
            while (children.TryPop(out int pid))
            {
                if (skip(pid)) continue;
                if (!TryReadStat(pid, buffer, out var fields)) continue;
                if (visit(pid, fields)) return;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// Whether process group <paramref name="pgid"/> has a member other than <paramref name="except"/>
    /// (its leader, while we hold its zombie). A zombie member counts only while its parent is us: we
    /// reap it (as a subreaper) and until then it still "exists" for kill(pid, 0), which is how
    /// programs such as PostgreSQL decide that their lock file is still held. A zombie left to a
    /// parent elsewhere holds no memory, ports or locks, and we cannot collect it.
    /// </summary>
    public static bool GroupHasOtherMembers(int pgid, int except)
    {
        long self = Environment.ProcessId;
        byte[] buffer = ArrayPool<byte>.Shared.Rent(StatBufferSize);
        try
        {
            foreach (string dir in Directory.EnumerateDirectories("/proc"))
            {
                if (!int.TryParse(Path.GetFileName(dir.AsSpan()), NumberStyles.None, CultureInfo.InvariantCulture, out int pid)) continue;
                if (pid == except || pid == self) continue;
                if (!TryReadStat(pid, buffer, out var fields)) continue;
                if (ParseLong(fields, FieldPgid) != pgid) continue;
                ReadOnlySpan<byte> state = GetField(fields, FieldState);
                if (state.Length > 0 && state[0] == (byte)'X') continue;
                if (state.Length > 0 && state[0] == (byte)'Z' && ParseLong(fields, FieldPpid) != self) continue;
                return true;
            }
            return false;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    // A stat line is a few hundred bytes; the comm field is at most 64.
    private const int StatBufferSize = 2048;

    private static bool IsDead(ReadOnlySpan<byte> state) => state.Length == 0 || state[0] is (byte)'Z' or (byte)'X';

    /// <summary>Reads the stat file of <paramref name="pid"/> and returns the part after the last ')',
    /// which begins with field 3 (state). False if the process does not exist (any more).</summary>
    private static unsafe bool TryReadStat(int pid, Span<byte> buffer, out ReadOnlySpan<byte> afterComm)
    {
        afterComm = default;
        // open/read/close by hand: File.OpenHandle adds an fstat and a pair of flock calls per file,
        // and the sampler reads every process's stat file on each pass (it was half its syscalls).
        int fd = Interop.Sys.Open($"/proc/{pid}/stat", Interop.Sys.O_RDONLY | Interop.Sys.O_CLOEXEC, 0);
        if (fd < 0) return false; // ENOENT: no such process
        nint length;
        using (var handle = new SafeFdHandle(fd))
        {
            fixed (byte* p = buffer) length = Interop.Sys.Read(handle, p, (nuint)buffer.Length);
        }
        if (length <= 0) return false; // ESRCH: it exited between open and read
        var line = buffer[..(int)length];
        int close = line.LastIndexOf((byte)')');
        if (close < 0 || close + 2 > line.Length) return false;
        afterComm = line[(close + 2)..];
        return true;
    }

    private static ReadOnlySpan<byte> GetField(ReadOnlySpan<byte> afterComm, int field)
    {
        int index = field - FieldState;
        foreach (Range range in afterComm.Split((byte)' '))
        {
            if (index-- == 0) return afterComm[range].TrimEnd((byte)'\n');
        }
        return default;
    }

    private static ulong ParseULong(ReadOnlySpan<byte> afterComm, int field) =>
        ulong.TryParse(GetField(afterComm, field), NumberStyles.None, CultureInfo.InvariantCulture, out ulong v) ? v : 0;

    private static long ParseLong(ReadOnlySpan<byte> afterComm, int field) =>
        long.TryParse(GetField(afterComm, field), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long v) ? v : 0;
}
