using System.Buffers.Binary;

namespace Tend;

/// <summary>
/// What statx(2) says about a path or a descriptor: type and permission bits, owner, group, size.
/// The one reader of struct statx (whose layout, unlike struct stat's, is the same on every
/// architecture), for everything above that needs to know what a file is.
/// </summary>
public readonly record struct FileStatus(int Mode, uint Uid, uint Gid, long Size)
{
    private const uint Mask = Interop.Sys.STATX_TYPE | Interop.Sys.STATX_MODE | Interop.Sys.STATX_UID | Interop.Sys.STATX_GID | Interop.Sys.STATX_SIZE;

    public int Type => Mode & Interop.Sys.S_IFMT;
    public bool IsRegular => Type == Interop.Sys.S_IFREG;
    public bool IsDirectory => Type == Interop.Sys.S_IFDIR;
    public bool IsSymlink => Type == Interop.Sys.S_IFLNK;
    public bool IsSocket => Type == Interop.Sys.S_IFSOCK;

    /// <summary>The type bits of a st_mode, named.</summary>
    public static FileType TypeOf(int mode) => (mode & Interop.Sys.S_IFMT) switch
    {
        Interop.Sys.S_IFREG => FileType.Regular,
        Interop.Sys.S_IFDIR => FileType.Directory,
        Interop.Sys.S_IFLNK => FileType.Symlink,
        Interop.Sys.S_IFSOCK => FileType.Socket,
        _ => FileType.Other,
    };

    /// <summary>The status of <paramref name="path"/>; with <paramref name="followLinks"/> false, of a symlink itself. False when it cannot be read (missing).</summary>
    public static unsafe bool TryOf(string path, bool followLinks, out FileStatus status)
    {
        byte* buffer = stackalloc byte[Interop.Sys.StatxBufferSize];
        int flags = followLinks ? 0 : Interop.Sys.AT_SYMLINK_NOFOLLOW;
        return Read(Interop.Sys.Statx(Interop.Sys.AT_FDCWD, path, flags, Mask, buffer), buffer, out status);
    }

    /// <summary>The status of an open descriptor.</summary>
    public static unsafe bool TryOf(int fd, out FileStatus status)
    {
        byte* buffer = stackalloc byte[Interop.Sys.StatxBufferSize];
        return Read(Interop.Sys.Statx(fd, "", Interop.Sys.AT_EMPTY_PATH, Mask, buffer), buffer, out status);
    }

    private static unsafe bool Read(int result, byte* buffer, out FileStatus status)
    {
        if (result != 0)
        {
            status = default;
            return false;
        }
        var span = new ReadOnlySpan<byte>(buffer, Interop.Sys.StatxBufferSize);
        status = new FileStatus(
            BinaryPrimitives.ReadUInt16LittleEndian(span[Interop.Sys.StatxModeOffset..]),
            BinaryPrimitives.ReadUInt32LittleEndian(span[Interop.Sys.StatxUidOffset..]),
            BinaryPrimitives.ReadUInt32LittleEndian(span[Interop.Sys.StatxGidOffset..]),
            (long)BinaryPrimitives.ReadUInt64LittleEndian(span[Interop.Sys.StatxSizeOffset..]));
        return true;
    }
}

public enum FileType
{
    Other,
    Regular,
    Directory,
    Symlink,
    Socket,
}
