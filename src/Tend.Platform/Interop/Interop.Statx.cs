using System.Runtime.InteropServices;

namespace Tend;

internal static partial class Interop
{
    internal static partial class Sys
    {
        // statx rather than fstat: struct statx has the same layout on every architecture,
        // struct stat does not (x86-64 and arm64 order st_mode/st_nlink differently).
        internal const int AT_EMPTY_PATH = 0x1000;
        internal const uint STATX_TYPE = 0x1, STATX_MODE = 0x2, STATX_UID = 0x8, STATX_GID = 0x10, STATX_SIZE = 0x200;
        internal const int StatxBufferSize = 256, StatxUidOffset = 20, StatxGidOffset = 24, StatxModeOffset = 28, StatxSizeOffset = 40;
        internal const int S_IFMT = 0xF000, S_IFREG = 0x8000, S_IFSOCK = 0xC000, S_IFDIR = 0x4000, S_IFLNK = 0xA000;
        internal const int AT_FDCWD = -100, AT_SYMLINK_NOFOLLOW = 0x100;

        [LibraryImport("libc", EntryPoint = "statx", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
        internal static unsafe partial int Statx(int dirfd, string path, int flags, uint mask, byte* statxbuf);
    }
}
