using System.Globalization;
using System.Text;

namespace Tend.Isolation;

/// <summary>
/// The cgroup of one instance: every process the instance ever starts lands here (a child joins it
/// before its program runs), and no process can leave it on its own, whatever it does with
/// sessions, process groups or double forks. Killing the cgroup therefore kills all of it, and an
/// empty cgroup proves the instance is gone.
/// </summary>
public sealed class InstanceCgroup
{
    private readonly bool _v2;
    private readonly IReadOnlyDictionary<string, string> _limitDirs;
    private readonly IReadOnlySet<string> _inMembership;

    internal InstanceCgroup(string directory, bool v2, IReadOnlyDictionary<string, string> limitDirs, IReadOnlySet<string> inMembership)
    {
        Directory = directory;
        _v2 = v2;
        _limitDirs = limitDirs;
        _inMembership = inMembership;
    }

    /// <summary>The instance's directory in the hierarchy that holds all its processes.</summary>
    public string Directory { get; }

    /// <summary>The cgroup.procs files a new process writes itself into, membership first.</summary>
    public IReadOnlyList<string> ProcsFiles { get; private set; } = [];

    /// <summary>
    /// Creates the instance's cgroups and applies <paramref name="resources"/> (a limit left out is
    /// reset to unlimited, so a reload that drops one takes effect). Throws IOException when a
    /// directory or a limit cannot be written.
    /// </summary>
    public void Prepare(CgroupResources resources)
    {
        // Again for a restart: the directories are there and the limits written, unless the spec
        // changed (or someone removed them meanwhile).
        if (resources == _applied && System.IO.Directory.Exists(Directory)) return;
        System.IO.Directory.CreateDirectory(Directory);
        var procs = new List<string> { Path.Join(Directory, "cgroup.procs") };
        var needed = resources.Controllers().ToHashSet(StringComparer.Ordinal);
        foreach (var (controller, dir) in _limitDirs)
        {
            // A v1 hierarchy is joined when its limit is set, or still there from an earlier run
            // (then its limit is reset rather than left behind); memory always, for the
            // instance's exact resident memory (ResidentBytes).
            if (!needed.Contains(controller) && controller != "memory" && !System.IO.Directory.Exists(dir)) continue;
            System.IO.Directory.CreateDirectory(dir);
            procs.Add(Path.Join(dir, "cgroup.procs"));
        }
        foreach (string controller in new[] { "memory", "pids", "cpu" })
        {
            if (_inMembership.Contains(controller)) ApplyV2(controller, Directory, resources);
            else if (_limitDirs.TryGetValue(controller, out string? dir) && System.IO.Directory.Exists(dir)) ApplyV1(controller, dir, resources);
        }
        ProcsFiles = procs;
        _applied = resources;
    }

    private CgroupResources? _applied;

    /// <summary>SIGKILL to every process in the cgroup: cgroup.kill on v2; on v1 the freezer stops
    /// them all first, so none can fork a new one between the listing and the kill.</summary>
    public void Kill()
    {
        if (_v2)
        {
            string kill = Path.Join(Directory, "cgroup.kill");
            if (File.Exists(kill))
            {
                TryWrite(kill, "1");
                return;
            }
            // Before Linux 5.14: freeze, kill what is listed, thaw.
            TryWrite(Path.Join(Directory, "cgroup.freeze"), "1");
            KillListed();
            TryWrite(Path.Join(Directory, "cgroup.freeze"), "0");
            return;
        }
        string state = Path.Join(Directory, "freezer.state");
        TryWrite(state, "FROZEN");
        for (int i = 0; i < 100 && TryRead(state)?.Trim() == "FREEZING"; i++) Thread.Sleep(2);
        KillListed();
        TryWrite(state, "THAWED");
    }

    /// <summary>Whether any process is still in the cgroup (zombies do not count: they hold nothing).</summary>
    public bool IsPopulated()
    {
        if (_v2)
        {
            string? events = TryRead(Path.Join(Directory, "cgroup.events"));
            return events is not null && events.Contains("populated 1", StringComparison.Ordinal);
        }
        string? procs = TryRead(Path.Join(Directory, "cgroup.procs"));
        return !string.IsNullOrWhiteSpace(procs);
    }

    /// <summary>The file whose changes tell that <see cref="IsPopulated"/> may have changed (v2's
    /// cgroup.events, watchable with inotify); null on v1, which has no such file.</summary>
    public string? EventsFile => _v2 ? Path.Join(Directory, "cgroup.events") : null;

    /// <summary>Completes at the next change of the cgroup's populated state; null when that cannot be
    /// told (v1, no inotify): then the caller looks again after a while. Ask before looking.</summary>
    public Task? NextChange() => EventsFile is { } events ? CgroupEvents.NextChange(events) : null;

    /// <summary>How many times the kernel's OOM killer has killed a process of this cgroup (memory.events
    /// on v2, memory.oom_control on v1); 0 without a memory cgroup.</summary>
    public long OomKills()
    {
        string? file = _inMembership.Contains("memory") ? Path.Join(Directory, "memory.events")
            : _limitDirs.TryGetValue("memory", out string? dir) ? Path.Join(dir, "memory.oom_control")
            : null;
        if (file is null) return 0;
        Span<byte> buffer = stackalloc byte[StatBufferSize];
        return Field(ReadSmall(file, buffer), "oom_kill"u8) ?? 0;
    }

    /// <summary>
    /// Resident memory of the cgroup's processes, counted once however many share a page: anonymous
    /// memory plus mapped file pages (memory.stat's anon + file_mapped on v2, total_rss +
    /// total_mapped_file on v1), which is what RSS means, without the page cache that
    /// memory.current also holds. Null without a memory cgroup.
    /// </summary>
    public long? ResidentBytes()
    {
        // Read by hand into a stack buffer: the sampler reads this for every instance on each pass.
        Span<byte> buffer = stackalloc byte[StatBufferSize];
        if (_inMembership.Contains("memory"))
        {
            ReadOnlySpan<byte> stat = ReadSmall(Path.Join(Directory, "memory.stat"), buffer);
            return Field(stat, "anon"u8) is long anon ? anon + (Field(stat, "file_mapped"u8) ?? 0) : null;
        }
        if (_limitDirs.TryGetValue("memory", out string? dir))
        {
            ReadOnlySpan<byte> stat = ReadSmall(Path.Join(dir, "memory.stat"), buffer);
            return Field(stat, "total_rss"u8) is long rss ? rss + (Field(stat, "total_mapped_file"u8) ?? 0) : null;
        }
        return null;
    }

    /// <summary>CPU time used by everything that ever ran in the cgroup, from v2's cpu.stat (present without the cpu controller); null on v1.</summary>
    public TimeSpan? CpuTime()
    {
        if (!_v2) return null;
        Span<byte> buffer = stackalloc byte[StatBufferSize];
        return Field(ReadSmall(Path.Join(Directory, "cpu.stat"), buffer), "usage_usec"u8) is long usec ? TimeSpan.FromMicroseconds(usec) : null;
    }

    /// <summary>memory.stat is about 1.5 KB on v1 (40-odd lines), less on v2.</summary>
    private const int StatBufferSize = 4096;

    /// <summary>A small cgroup file by open/read/close (File.ReadAllText adds an fstat, a FileStream
    /// and a string per call); empty when it cannot be read.</summary>
    private static unsafe ReadOnlySpan<byte> ReadSmall(string path, Span<byte> buffer)
    {
        int fd = Interop.Sys.Open(path, Interop.Sys.O_RDONLY | Interop.Sys.O_CLOEXEC, 0);
        if (fd < 0) return default;
        nint length;
        using (var handle = new Io.SafeFdHandle(fd))
        {
            fixed (byte* p = buffer) length = Interop.Sys.Read(handle, p, (nuint)buffer.Length);
        }
        return length <= 0 ? default : buffer[..(int)length];
    }

    /// <summary>The value of the "name value" line called <paramref name="name"/>.</summary>
    private static long? Field(ReadOnlySpan<byte> text, ReadOnlySpan<byte> name)
    {
        foreach (Range range in text.Split((byte)'\n'))
        {
            ReadOnlySpan<byte> line = text[range];
            if (line.Length > name.Length && line.StartsWith(name) && line[name.Length] == (byte)' ' &&
                long.TryParse(line[(name.Length + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out long value))
                return value;
        }
        return null;
    }

    /// <summary>Removes the instance's cgroups (they must be empty; a populated one is left alone).</summary>
    public void Remove()
    {
        _applied = null;
        if (EventsFile is { } events) CgroupEvents.Forget(events);
        foreach (string dir in _limitDirs.Values.Append(Directory)) TryRemove(dir);
    }

    internal static void TryRemove(string dir)
    {
        try
        {
            System.IO.Directory.Delete(dir);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Busy (still populated) or gone.
        }
    }

    private void KillListed()
    {
        foreach (string line in (TryRead(Path.Join(Directory, "cgroup.procs")) ?? "").Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            if (int.TryParse(line, NumberStyles.None, CultureInfo.InvariantCulture, out int pid) && pid > 1)
                Interop.Sys.Kill(pid, 9);
        }
    }

    private static void ApplyV2(string controller, string dir, CgroupResources r)
    {
        switch (controller)
        {
            case "memory":
                Write(Path.Join(dir, "memory.max"), r.MemoryMax?.ToString(CultureInfo.InvariantCulture) ?? "max");
                Write(Path.Join(dir, "memory.high"), r.MemoryHigh?.ToString(CultureInfo.InvariantCulture) ?? "max");
                break;
            case "pids":
                Write(Path.Join(dir, "pids.max"), r.PidsMax?.ToString(CultureInfo.InvariantCulture) ?? "max");
                break;
            case "cpu":
                Write(Path.Join(dir, "cpu.max"), r.CpuMax is double cores ? $"{Quota(cores)} {Period}" : $"max {Period}");
                break;
        }
    }

    private static void ApplyV1(string controller, string dir, CgroupResources r)
    {
        switch (controller)
        {
            case "memory":
                Write(Path.Join(dir, "memory.limit_in_bytes"), r.MemoryMax?.ToString(CultureInfo.InvariantCulture) ?? "-1");
                Write(Path.Join(dir, "memory.soft_limit_in_bytes"), r.MemoryHigh?.ToString(CultureInfo.InvariantCulture) ?? "-1");
                break;
            case "pids":
                Write(Path.Join(dir, "pids.max"), r.PidsMax?.ToString(CultureInfo.InvariantCulture) ?? "max");
                break;
            case "cpu":
                Write(Path.Join(dir, "cpu.cfs_period_us"), Period.ToString(CultureInfo.InvariantCulture));
                Write(Path.Join(dir, "cpu.cfs_quota_us"), r.CpuMax is double cores ? Quota(cores).ToString(CultureInfo.InvariantCulture) : "-1");
                break;
        }
    }

    /// <summary>The scheduler period for a CPU quota, as systemd uses: 100 ms.</summary>
    private const long Period = 100_000;

    private static long Quota(double cores) => Math.Max(1000, (long)Math.Round(cores * Period));

    /// <summary>Writes a cgroup file: one write(2) of the whole value, no O_TRUNC, no O_CREAT.</summary>
    internal static void Write(string path, string value)
    {
        using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Write);
        RandomAccess.Write(handle, Encoding.ASCII.GetBytes(value), 0);
    }

    private static void TryWrite(string path, string value)
    {
        try
        {
            Write(path, value);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Gone already (removed), or not supported: the caller checks the outcome by emptiness.
        }
    }

    private static string? TryRead(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
