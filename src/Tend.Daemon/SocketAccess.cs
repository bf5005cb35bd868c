using Tend.Isolation;

namespace Tend.Daemon;

/// <summary>
/// `socket_group` (docs/audit.md): the control socket opened to one group, so operators need not be
/// root. The home becomes 0710 with that group (enter, not list or write) and the socket 0660; every
/// action through it is recorded in audit.log under the caller's own uid (SO_PEERCRED).
/// </summary>
internal static class SocketAccess
{
    private const UnixFileMode HomeMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupExecute;
    private const UnixFileMode SocketMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite;

    /// <summary>Null when the group can reach the socket; else what keeps it from doing so.</summary>
    public static string? OpenToGroup(string home, string socketPath, GroupAccount group)
    {
        try
        {
            Tend.Identity.FileGroup.Set(home, group.Gid);
            File.SetUnixFileMode(home, HomeMode);
            Tend.Identity.FileGroup.Set(socketPath, group.Gid);
            File.SetUnixFileMode(socketPath, SocketMode);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return e.Message;
        }
        // Every directory above the home must let the group pass, or the socket is out of its reach.
        for (string? dir = Path.GetDirectoryName(home); !string.IsNullOrEmpty(dir); dir = Path.GetDirectoryName(dir))
        {
            UnixFileMode mode = File.GetUnixFileMode(dir);
            if ((mode & UnixFileMode.OtherExecute) == 0)
                return $"{dir}, above the home, does not let other users pass (mode {Convert.ToString((int)mode, 8)}): {group.Name} cannot reach the socket; put TEND_HOME under /var/lib or /srv";
        }
        return null;
    }
}
