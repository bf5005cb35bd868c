namespace Tend.Isolation;

/// <summary>How this host's cgroups are laid out.</summary>
public enum CgroupMode
{
    /// <summary>No cgroup tree Tend can write (not root, no delegation, a read-only cgroupfs): process groups and a subreaper.</summary>
    None,
    /// <summary>Only cgroup v2 (what systemd gives current distributions): membership, kill and limits in one tree.</summary>
    Unified,
    /// <summary>A v2 tree for membership and cgroup.kill, limits in v1 hierarchies (memory, pids, cpu).</summary>
    Hybrid,
    /// <summary>Only v1 hierarchies: the freezer stops a cgroup so every process in it can be killed.</summary>
    Legacy,
}

/// <summary>
/// The cgroup hierarchies mounted here and where this process sits in each, read from
/// /proc/self/mountinfo and /proc/self/cgroup. A directory is "our place" in a hierarchy: the
/// mount point joined with our own cgroup's path (so a daemon in a systemd unit with
/// <c>Delegate=yes</c> builds under its unit's cgroup, and one in a container under the container's).
/// </summary>
public sealed class CgroupLayout
{
    /// <summary>The v1 controllers Tend uses: limits (memory, pids, cpu) and the freezer for killing.</summary>
    public static IReadOnlyList<string> V1Controllers { get; } = ["memory", "pids", "cpu", "freezer"];

    private CgroupLayout(string? unified, IReadOnlySet<string> unifiedControllers, IReadOnlyDictionary<string, string> v1,
        IReadOnlyDictionary<string, string> mounts)
    {
        UnifiedDirectory = unified;
        UnifiedControllers = unifiedControllers;
        V1Directories = v1;
        MountPoints = mounts;
    }

    /// <summary>Where each hierarchy is mounted: "" for the v2 tree, the controller's name for v1.</summary>
    public IReadOnlyDictionary<string, string> MountPoints { get; }

    /// <summary>Our own cgroup's directory in the v2 tree, or null without one.</summary>
    public string? UnifiedDirectory { get; }

    /// <summary>Controllers the v2 tree offers at our cgroup (cgroup.controllers).</summary>
    public IReadOnlySet<string> UnifiedControllers { get; }

    /// <summary>Our own cgroup's directory in each v1 hierarchy Tend uses, by controller.</summary>
    public IReadOnlyDictionary<string, string> V1Directories { get; }

    /// <summary>Which layout this is, before asking whether we may write to it.</summary>
    public CgroupMode Mode =>
        UnifiedDirectory is not null && UnifiedControllers.Contains("memory") ? CgroupMode.Unified
        : UnifiedDirectory is not null ? CgroupMode.Hybrid
        : V1Directories.ContainsKey("freezer") ? CgroupMode.Legacy
        : CgroupMode.None;

    /// <summary>Where a controller's files live for us: the v2 tree when it offers the controller, else its v1 hierarchy; null when neither.</summary>
    public string? DirectoryFor(string controller) =>
        UnifiedDirectory is not null && UnifiedControllers.Contains(controller) ? UnifiedDirectory
        : V1Directories.TryGetValue(controller, out string? dir) ? dir : null;

    /// <summary>Reads the layout of this process's cgroups.</summary>
    public static CgroupLayout Detect() => Parse(Read("/proc/self/mountinfo"), Read("/proc/self/cgroup"));

    /// <summary>Parses mountinfo and /proc/PID/cgroup text (exposed for tests of other layouts).</summary>
    public static CgroupLayout Parse(string mountInfo, string ownCgroups)
    {
        // /proc/self/cgroup: "0::/path" for v2, "4:memory:/path" (or "2:cpu,cpuacct:/path") for v1.
        string? ownUnified = null;
        var ownV1 = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string line in ownCgroups.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            string[] parts = line.Split(':', 3);
            if (parts.Length != 3) continue;
            if (parts[0] == "0" && parts[1].Length == 0) ownUnified = parts[2];
            else foreach (string controller in parts[1].Split(',')) ownV1[controller] = parts[2];
        }

        string? unified = null;
        var v1 = new Dictionary<string, string>(StringComparer.Ordinal);
        var mounts = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string line in mountInfo.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            // id parent major:minor root mountpoint options [optional...] - fstype source superoptions
            int dash = line.IndexOf(" - ", StringComparison.Ordinal);
            if (dash < 0) continue;
            string[] head = line[..dash].Split(' ');
            string[] tail = line[(dash + 3)..].Split(' ');
            if (head.Length < 5 || tail.Length < 3) continue;
            string root = Unescape(head[3]), mountPoint = Unescape(head[4]);
            if (tail[0] == "cgroup2" && ownUnified is not null && unified is null)
            {
                unified = Place(mountPoint, root, ownUnified);
                mounts[""] = mountPoint;
            }
            else if (tail[0] == "cgroup")
            {
                foreach (string option in tail[2].Split(','))
                {
                    if (V1Controllers.Contains(option) && ownV1.TryGetValue(option, out string? own) && !v1.ContainsKey(option))
                    {
                        v1[option] = Place(mountPoint, root, own);
                        mounts[option] = mountPoint;
                    }
                }
            }
        }

        var controllers = new HashSet<string>(StringComparer.Ordinal);
        if (unified is not null && ReadOrNull(Path.Combine(unified, "cgroup.controllers")) is { } text)
            controllers.UnionWith(text.Split([' ', '\n'], StringSplitOptions.RemoveEmptyEntries));
        return new CgroupLayout(unified, controllers, v1, mounts);
    }

    /// <summary>The directory of cgroup <paramref name="own"/> under a mount of hierarchy root <paramref name="root"/>.</summary>
    private static string Place(string mountPoint, string root, string own)
    {
        // A container sees its own cgroup as the mount's root ("/docker/abc" mounted at /sys/fs/cgroup).
        string relative = root != "/" && own.StartsWith(root, StringComparison.Ordinal) ? own[root.Length..] : own;
        return Path.Join(mountPoint, relative.TrimStart('/')).TrimEnd('/');
    }

    /// <summary>mountinfo escapes space, tab, newline and backslash as \ooo.</summary>
    private static string Unescape(string field) =>
        field.Replace("\\040", " ").Replace("\\011", "\t").Replace("\\012", "\n").Replace("\\134", "\\");

    private static string Read(string path) => ReadOrNull(path) ?? "";

    private static string? ReadOrNull(string path)
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
