using System.Runtime.InteropServices;

namespace Tend.Identity;

/// <summary>Giving a file of ours to a group (lchown with the owner unchanged), as a socket opened to operators needs.</summary>
public static class FileGroup
{
    /// <summary>Sets the group of <paramref name="path"/> (not following a symlink). Throws IOException.</summary>
    public static void Set(string path, uint gid)
    {
        if (Interop.Sys.LChown(path, uint.MaxValue, gid) != 0)
            throw Interop.Sys.GetIOException(Marshal.GetLastPInvokeError(), "chgrp " + path);
    }
}
