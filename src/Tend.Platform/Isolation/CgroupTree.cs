using System.Text;
using Tend.Hashing;

namespace Tend.Isolation;

/// <summary>
/// The cgroup subtree one daemon owns: <c>tend-&lt;id&gt;</c> under the daemon's own cgroup (or under
/// <c>TEND_CGROUP_ROOT</c>) in each hierarchy it uses, with one leaf per instance. The id comes from
/// TEND_HOME, so two daemons never share a subtree and a daemon that restarts finds its instances'
/// cgroups where it left them.
/// </summary>
public sealed class CgroupTree
{
    /// <summary>Controllers an instance's limits can use.</summary>
    private readonly Dictionary<string, string> _controllers;

    private CgroupTree(CgroupMode mode, string? membership, bool membershipIsV2, Dictionary<string, string> controllers, string name, IReadOnlyList<string> notes)
    {
        Mode = mode;
        MembershipDirectory = membership;
        _membershipIsV2 = membershipIsV2;
        _controllers = controllers;
        Name = name;
        Notes = notes;
    }

    private readonly bool _membershipIsV2;

    /// <summary>What is in force: <see cref="CgroupMode.None"/> means process groups and the subreaper only.</summary>
    public CgroupMode Mode { get; }

    /// <summary>The subtree's directory in the hierarchy that holds every instance (the v2 tree, or the v1 freezer).</summary>
    public string? MembershipDirectory { get; }

    /// <summary>The subtree's name (tend-&lt;id&gt;).</summary>
    public string Name { get; }

    /// <summary>Controllers limits can be applied with, and where each lives.</summary>
    public IReadOnlyDictionary<string, string> Controllers => _controllers;

    /// <summary>What could not be set up, in words (empty when everything could).</summary>
    public IReadOnlyList<string> Notes { get; }

    /// <summary>A tree that uses no cgroups (the fallback, or TEND_CGROUP=off).</summary>
    public static CgroupTree Disabled(string reason) => new(CgroupMode.None, null, false, [], "", [reason]);

    /// <summary>
    /// Creates (or finds) the subtree for the daemon of <paramref name="home"/>. Never throws: what
    /// cannot be created is left out and said in <see cref="Notes"/>, and with no writable
    /// hierarchy at all the tree is <see cref="CgroupMode.None"/>.
    /// </summary>
    /// <param name="root">A cgroup path (as in /proc/self/cgroup) to build under instead of our own cgroup; null for our own.</param>
    public static CgroupTree Open(CgroupLayout layout, string home, string? root = null)
    {
        string name = "tend-" + Convert.ToHexStringLower(Sha256.Hash(Encoding.UTF8.GetBytes(Path.GetFullPath(home))))[..10];
        var notes = new List<string>();
        var controllers = new Dictionary<string, string>(StringComparer.Ordinal);

        string? Base(string key, string? own)
        {
            if (own is null) return null;
            if (root is not null && layout.MountPoints.TryGetValue(key, out string? mount))
                return Path.Join(mount, root.Trim('/'), name);
            return Path.Join(own, name);
        }

        string? membership = null;
        bool membershipIsV2 = false;
        if (Base("", layout.UnifiedDirectory) is { } v2)
        {
            if (TryCreate(v2, out string? error) && File.Exists(Path.Join(v2, "cgroup.events")))
            {
                membership = v2;
                membershipIsV2 = true;
            }
            else notes.Add($"cgroup v2 tree: {error ?? "no cgroup.events"}");
        }
        if (membership is null && Base("freezer", layout.V1Directories.GetValueOrDefault("freezer")) is { } freezer)
        {
            if (TryCreate(freezer, out string? error)) membership = freezer;
            else notes.Add($"cgroup v1 freezer: {error}");
        }
        if (membership is null)
        {
            notes.Add("no writable cgroup tree: instances are contained by process groups and the daemon as their subreaper");
            return new CgroupTree(CgroupMode.None, null, false, controllers, name, notes);
        }

        string parent = Path.GetDirectoryName(membership)!;
        if (membershipIsV2 && layout.Mode == CgroupMode.Unified && root is null && layout.MountPoints.TryGetValue("", out string? mountRoot))
            MoveIntoLeafIfNeeded(parent, mountRoot, notes);
        foreach (string controller in new[] { "memory", "pids", "cpu" })
        {
            if (membershipIsV2 && layout.UnifiedControllers.Contains(controller))
            {
                // v2: a controller reaches a cgroup only when its parent enables it for its children.
                string? error = EnableV2(parent, membership, controller);
                if (error is null) controllers[controller] = membership;
                else notes.Add($"{controller} controller: {error}");
            }
            else if (Base(controller, layout.V1Directories.GetValueOrDefault(controller)) is { } v1)
            {
                if (TryCreate(v1, out string? error)) controllers[controller] = v1;
                else notes.Add($"{controller} controller (v1): {error}");
            }
            else
            {
                notes.Add($"{controller} controller: not available on this host");
            }
        }
        CgroupMode mode = !membershipIsV2 ? CgroupMode.Legacy
            : layout.Mode == CgroupMode.Unified ? CgroupMode.Unified : CgroupMode.Hybrid;
        return new CgroupTree(mode, membership, membershipIsV2, controllers, name, notes);
    }

    /// <summary>
    /// The tree for the daemon of <paramref name="home"/> as the environment asks: <c>TEND_CGROUP=off</c>
    /// turns cgroups off (process groups and the subreaper only); <c>TEND_CGROUP_ROOT=/path</c> builds
    /// under that cgroup instead of the daemon's own.
    /// </summary>
    public static CgroupTree FromEnvironment(string home, Func<string, string?> getenv)
    {
        string? setting = getenv("TEND_CGROUP");
        if (setting is not null && setting.Trim().ToLowerInvariant() is "off" or "0" or "false" or "no")
            return Disabled("turned off (TEND_CGROUP=off)");
        string? root = getenv("TEND_CGROUP_ROOT");
        return Open(CgroupLayout.Detect(), home, string.IsNullOrWhiteSpace(root) ? null : root);
    }

    /// <summary>The cgroup of one instance (not created until <see cref="InstanceCgroup.Prepare"/>).</summary>
    public InstanceCgroup? Instance(string leaf)
    {
        if (MembershipDirectory is null) return null;
        if (leaf.Length == 0 || leaf.Contains('/') || leaf is "." or ".." || leaf.StartsWith("cgroup.", StringComparison.Ordinal))
            throw new ArgumentException($"'{leaf}' cannot name a cgroup", nameof(leaf));
        var limits = _controllers.Where(c => c.Value != MembershipDirectory)
            .ToDictionary(c => c.Key, c => Path.Join(c.Value, leaf), StringComparer.Ordinal);
        var inMembership = _controllers.Where(c => c.Value == MembershipDirectory).Select(c => c.Key).ToHashSet(StringComparer.Ordinal);
        return new InstanceCgroup(Path.Join(MembershipDirectory, leaf), _membershipIsV2, limits, inMembership);
    }

    /// <summary>
    /// Kills whatever still runs in the subtree's instance cgroups (a daemon that died, by SIGKILL or a
    /// power cut, left its apps running there) and waits, bounded, for them to empty. Returns the
    /// leaves that held processes. Leaves named in <paramref name="keep"/> (runs a new daemon adopted) are left alone.
    /// </summary>
    public IReadOnlyList<string> KillLeftovers(TimeSpan bound, IReadOnlySet<string>? keep = null)
    {
        if (MembershipDirectory is null) return [];
        var killed = new List<InstanceCgroup>();
        try
        {
            foreach (string dir in Directory.EnumerateDirectories(MembershipDirectory))
            {
                if (keep?.Contains(Path.GetFileName(dir)) == true) continue;
                InstanceCgroup leaf = Instance(Path.GetFileName(dir))!;
                if (!leaf.IsPopulated()) continue;
                leaf.Kill();
                killed.Add(leaf);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The subtree went away meanwhile: nothing left to kill.
        }
        long start = System.Diagnostics.Stopwatch.GetTimestamp();
        while (killed.Any(k => k.IsPopulated()) && System.Diagnostics.Stopwatch.GetElapsedTime(start) < bound) Thread.Sleep(10);
        foreach (InstanceCgroup leaf in killed) leaf.Remove();
        return [.. killed.Select(k => k.Directory)];
    }

    /// <summary>Whether limits using <paramref name="controller"/> can be enforced here.</summary>
    public bool CanLimit(string controller) => _controllers.ContainsKey(controller);

    /// <summary>Removes the subtree's directories if nothing runs in them any more (after the last instance stopped).</summary>
    public void RemoveIfEmpty()
    {
        foreach (string dir in _controllers.Values.Append(MembershipDirectory).OfType<string>().Distinct())
        {
            try
            {
                foreach (string leaf in Directory.EnumerateDirectories(dir)) InstanceCgroup.TryRemove(leaf);
                Directory.Delete(dir);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Still populated (apps kept running across a daemon restart) or already gone.
            }
        }
    }

    private static bool TryCreate(string dir, out string? error)
    {
        try
        {
            Directory.CreateDirectory(dir);
            // A directory we cannot write into is as good as none (cgroupfs mounted read-only, or not ours).
            using (File.OpenHandle(Path.Join(dir, "cgroup.procs"), FileMode.Open, FileAccess.Write)) { }
            error = null;
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            error = e.Message;
            return false;
        }
    }

    /// <summary>
    /// cgroup v2's "no internal processes" rule: a cgroup (other than the root) that holds processes
    /// cannot enable controllers for its children. Under systemd with <c>Delegate=yes</c> the daemon
    /// starts in its unit's cgroup, so it moves itself into a leaf of it (<c>daemon</c>), as systemd's
    /// delegation documentation asks, and the unit's cgroup can then pass memory, pids and cpu to the
    /// instances. Nothing is moved when the controllers can already be enabled, or at the root.
    /// </summary>
    private static void MoveIntoLeafIfNeeded(string own, string mountRoot, List<string> notes)
    {
        if (Path.TrimEndingDirectorySeparator(own) == Path.TrimEndingDirectorySeparator(mountRoot)) return;
        try
        {
            string control = Path.Join(own, "cgroup.subtree_control");
            if (File.ReadAllText(control).Split(' ', '\n').Contains("memory")) return;
            try
            {
                InstanceCgroup.Write(control, "+memory");
                return;
            }
            catch (IOException)
            {
                // EBUSY: we (and maybe others) are in it; move ourselves out below.
            }
            string leaf = Path.Join(own, "daemon");
            Directory.CreateDirectory(leaf);
            InstanceCgroup.Write(Path.Join(leaf, "cgroup.procs"), Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture));
            notes.Add($"moved the daemon into {leaf}, so that {own} may hand controllers to the instances (cgroup v2 allows them only below cgroups without processes)");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            notes.Add($"could not move the daemon into a leaf of {own}: {e.Message}");
        }
    }

    /// <summary>Enables <paramref name="controller"/> from our own cgroup down to the subtree.</summary>
    private static string? EnableV2(string own, string subtree, string controller)
    {
        try
        {
            string ownControl = Path.Join(own, "cgroup.subtree_control");
            if (!File.ReadAllText(ownControl).Split(' ', '\n').Contains(controller))
                InstanceCgroup.Write(ownControl, "+" + controller);
            InstanceCgroup.Write(Path.Join(subtree, "cgroup.subtree_control"), "+" + controller);
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // EBUSY: our own cgroup has processes (this daemon) and is not the root; v2 allows
            // controllers only for cgroups whose processes sit in leaves (the delegation rules).
            return e.Message + " (run the daemon in a leaf cgroup of a delegated subtree: systemd's Delegate=yes)";
        }
    }
}
