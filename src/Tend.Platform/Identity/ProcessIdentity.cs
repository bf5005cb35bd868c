namespace Tend.Identity;

/// <summary>Who this process is, and what it may do with files it creates.</summary>
public static class ProcessIdentity
{
    /// <summary>The effective user id (geteuid(2)).</summary>
    public static uint EffectiveUserId => Interop.Sys.GetEUid();

    /// <summary>From here on, files and sockets this process creates are for its own user only (umask 077).</summary>
    public static void CreateFilesPrivate() => Interop.Sys.Umask(0x3F /* 077 */);

    /// <summary>Whether this process may execute <paramref name="path"/> (access(2) with X_OK, for the real user).</summary>
    public static bool CanExecute(string path) => Interop.Sys.Access(path, Interop.Sys.X_OK) == 0;
}
