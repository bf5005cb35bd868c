namespace Tend.Isolation;

/// <summary>What this host offers for isolating processes: the helpers of the spawn prelude, pidfds, who we are.</summary>
public static class HostSupport
{
    /// <summary>A util-linux helper of the spawn prelude (setpriv, prlimit) by absolute path, or null when it is not installed.</summary>
    public static string? FindTool(string name)
    {
        foreach (string dir in new[] { "/usr/bin", "/bin", "/usr/sbin", "/sbin" })
        {
            string candidate = Path.Join(dir, name);
            if (File.Exists(candidate) && Interop.Sys.Access(candidate, Interop.Sys.X_OK) == 0) return candidate;
        }
        return null;
    }

    /// <summary>Whether the kernel has pidfd_open (Linux 5.3), which every process Tend holds relies on.</summary>
    public static bool HasPidFd()
    {
        int fd = Interop.Sys.PidFdOpen(Environment.ProcessId);
        if (fd < 0) return false;
        Interop.Sys.Close(fd);
        return true;
    }

    /// <summary>Whether this process is root (effective uid 0): only root may run apps as other users.</summary>
    public static bool IsRoot => Interop.Sys.GetEUid() == 0;

    /// <summary>
    /// Whether <paramref name="uid"/> (with <paramref name="gid"/> and <paramref name="groups"/>) may enter
    /// <paramref name="directory"/>: search permission on it and on every directory above it, by
    /// the mode bits (root may enter anything). Null when it may; otherwise the first directory in the way.
    /// </summary>
    public static string? FirstDirectoryNotEnterable(string directory, uint uid, uint gid, IReadOnlyCollection<uint> groups)
    {
        if (uid == 0) return null;
        string? current = Path.GetFullPath(directory);
        var chain = new List<string>();
        for (; current is not null; current = Path.GetDirectoryName(current)) chain.Add(current);
        chain.Reverse();
        foreach (string dir in chain)
        {
            if (!FileStatus.TryOf(dir, followLinks: true, out FileStatus s)) return dir;
            int mode = s.Mode;
            bool ok = s.Uid == uid ? (mode & 0x40) != 0
                : s.Gid == gid || groups.Contains(s.Gid) ? (mode & 0x8) != 0
                : (mode & 0x1) != 0;
            if (!ok) return dir;
        }
        return null;
    }
}
