using System.Runtime.InteropServices;

namespace Tend;

internal static partial class Interop
{
    internal static partial class Sys
    {
        internal const int IN_NONBLOCK = 0x800, IN_CLOEXEC = 0x80000;
        internal const uint IN_MODIFY = 0x2, IN_ATTRIB = 0x4, IN_CLOSE_WRITE = 0x8, IN_MOVED_FROM = 0x40, IN_MOVED_TO = 0x80,
            IN_CREATE = 0x100, IN_DELETE = 0x200, IN_DELETE_SELF = 0x400, IN_MOVE_SELF = 0x800, IN_Q_OVERFLOW = 0x4000,
            IN_IGNORED = 0x8000, IN_ONLYDIR = 0x01000000, IN_DONT_FOLLOW = 0x02000000, IN_EXCL_UNLINK = 0x04000000, IN_ISDIR = 0x40000000;

        /// <summary>struct inotify_event: wd, mask, cookie, len, then len bytes of name.</summary>
        internal const int InotifyEventHeaderSize = 16;

        [LibraryImport(Libraries.Libc, EntryPoint = "inotify_init1", SetLastError = true)]
        internal static partial int InotifyInit1(int flags);

        [LibraryImport(Libraries.Libc, EntryPoint = "inotify_add_watch", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
        internal static partial int InotifyAddWatch(SafeHandle fd, string path, uint mask);

        [LibraryImport(Libraries.Libc, EntryPoint = "inotify_rm_watch", SetLastError = true)]
        internal static partial int InotifyRmWatch(SafeHandle fd, int wd);
    }
}
