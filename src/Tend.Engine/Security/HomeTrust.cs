using System.Globalization;

namespace Tend.Security;

/// <summary>
/// Whether a TEND_HOME may be trusted, the way ssh's StrictModes and systemd judge their files.
/// Everything in the home is trusted by the daemon and the CLI: the socket receives `tend start`
/// requests with the caller's whole environment, daemon.pid and daemon.log are written by a daemon
/// that may run as root, state.json says what to run. If another user can write to the home, or
/// to a directory above it, they can put a symlink or a fake socket there. So a home is refused
/// unless it and every directory above it are owned by us or root and are not writable by group
/// or others; a directory with the sticky bit (/tmp) is allowed above the home, since there
/// nobody else can rename or remove what is ours. As in ssh, group-writable is fine when the group
/// is the owner's private group (named after the owner, with no other member), the layout of
/// distributions with user private groups.
/// </summary>
public static class HomeTrust
{
    private const int GroupWrite = 0x10, OtherWrite = 0x2, Sticky = 0x200;

    /// <summary>Create the home (0700) if it is missing, then check it; throws <see cref="UntrustedHomeException"/> if it cannot be trusted.</summary>
    public static void Ensure(string home)
    {
        if (!Directory.Exists(home))
            Directory.CreateDirectory(home, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        if (Problem(home) is { } problem) throw new UntrustedHomeException(problem);
    }

    /// <summary>
    /// Null when <paramref name="home"/> can be trusted, else what is wrong and how to fix it. With
    /// <paramref name="rootMayOwn"/> (a client about to speak to a daemon), a home owned by root is
    /// trusted too: an operator of a root daemon's socket_group (docs/audit.md) talks to it there,
    /// and root could do anything to us anyway.
    /// </summary>
    public static string? Problem(string home, bool rootMayOwn = false)
    {
        uint me = Tend.Identity.ProcessIdentity.EffectiveUserId;
        string path = Path.GetFullPath(home);
        if (!TryLstat(path, out uint owner, out int mode, out uint group)) return null; // missing: made 0700 by whoever creates it
        if (FileStatus.TypeOf(mode) == FileType.Symlink)
            return $"TEND_HOME {path} is a symbolic link; point TEND_HOME at the real directory";
        if (FileStatus.TypeOf(mode) != FileType.Directory)
            return $"TEND_HOME {path} is not a directory";
        if (owner != me && !(rootMayOwn && owner == 0))
            return $"TEND_HOME {path} is owned by {UserName(owner)}, not by you ({UserName(me)}): its socket and state could be someone else's; use your own directory, or chown {UserName(me)} {path}";
        if ((mode & OtherWrite) != 0 || ((mode & GroupWrite) != 0 && !IsPrivateGroup(group, owner)))
            return $"TEND_HOME {path} is writable by other users (mode {Octal(mode)}): they could plant files the daemon trusts; fix it with chmod 700 {path}";

        for (string? dir = Path.GetDirectoryName(path); !string.IsNullOrEmpty(dir); dir = Path.GetDirectoryName(dir))
        {
            // stat, not lstat, above the home: /var/run → /run is an ordinary system link.
            if (!TryStat(dir, out uint dirOwner, out int dirMode, out uint dirGroup)) continue;
            if (dirOwner != me && dirOwner != 0)
                return $"{dir}, above TEND_HOME {path}, is owned by {UserName(dirOwner)}, who could replace the home; put TEND_HOME under a directory owned by you or root";
            bool othersMayWrite = (dirMode & OtherWrite) != 0 || ((dirMode & GroupWrite) != 0 && !IsPrivateGroup(dirGroup, dirOwner));
            if (othersMayWrite && (dirMode & Sticky) == 0)
                return $"{dir}, above TEND_HOME {path}, is writable by other users (mode {Octal(dirMode)}), who could replace the home; chmod go-w {dir}, or put TEND_HOME elsewhere";
        }
        return null;
    }

    /// <summary>
    /// Null when the daemon's socket at <paramref name="socketPath"/> may be spoken to: a socket (not a
    /// symlink) owned by us or root. Checked by the CLI before it sends anything, since a request
    /// carries the caller's environment.
    /// </summary>
    public static string? SocketProblem(string socketPath)
    {
        if (!TryLstat(socketPath, out uint owner, out int mode, out _)) return null; // missing: connect says "not running"
        if (FileStatus.TypeOf(mode) != FileType.Socket)
            return $"{socketPath} is not a socket; refusing to send it a request";
        uint me = Tend.Identity.ProcessIdentity.EffectiveUserId;
        if (owner != me && owner != 0)
            return $"{socketPath} is owned by {UserName(owner)}, not by you or root: it is not your daemon, and a request would hand it your environment";
        return null;
    }

    private static string Octal(int mode) => "0" + Convert.ToString(mode & 0xFFF, 8);

    private static string UserName(uint uid)
    {
        try
        {
            foreach (string line in File.ReadLines("/etc/passwd"))
            {
                string[] f = line.Split(':');
                if (f.Length > 2 && f[2] == uid.ToString(CultureInfo.InvariantCulture)) return f[0];
            }
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return "uid " + uid.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>A user private group: named after <paramref name="owner"/>'s user, with no member but that user.</summary>
    private static bool IsPrivateGroup(uint gid, uint owner)
    {
        string user = UserName(owner);
        try
        {
            foreach (string line in File.ReadLines("/etc/group"))
            {
                string[] f = line.Split(':');
                if (f.Length < 4 || f[2] != gid.ToString(CultureInfo.InvariantCulture)) continue;
                return f[0] == user && (f[3].Length == 0 || f[3] == user);
            }
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return false;
    }

    private static bool TryLstat(string path, out uint owner, out int mode, out uint group) => TryStat(path, false, out owner, out mode, out group);

    private static bool TryStat(string path, out uint owner, out int mode, out uint group) => TryStat(path, true, out owner, out mode, out group);

    private static bool TryStat(string path, bool followLinks, out uint owner, out int mode, out uint group)
    {
        bool found = FileStatus.TryOf(path, followLinks, out FileStatus s);
        (owner, mode, group) = (s.Uid, s.Mode, s.Gid);
        return found;
    }
}

/// <summary>TEND_HOME (or a directory above it) could be changed by another user; the message says how to fix it.</summary>
public sealed class UntrustedHomeException(string message) : Exception(message);
