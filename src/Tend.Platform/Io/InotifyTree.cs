using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;

namespace Tend.Io;

/// <summary>What changed under a watched tree: a file or directory written, created, deleted or moved.</summary>
/// <param name="Path">Its full path; for <paramref name="Overflow"/> the empty string.</param>
/// <param name="CreatedDirectory">A directory appeared (made or moved in): its contents are not watched until it is added.</param>
/// <param name="Overflow">The kernel's event queue overflowed: events were lost, anything may have changed.</param>
public readonly record struct TreeChange(string Path, bool CreatedDirectory, bool Overflow);

/// <summary>
/// Directory trees watched with inotify: one watch per directory (inotify is not recursive), added
/// while walking the tree, skipping what the caller says to skip, so an ignored node_modules costs
/// nothing. The descriptor sits on the shared <see cref="EpollLoop"/>: no thread, no polling.
/// <see cref="TreeChange"/>s are reported on the loop thread and must be handled quickly.
/// A directory created later is reported (<see cref="TreeChange.CreatedDirectory"/>) for the caller
/// to <see cref="AddTree"/> it, so the caller's rules decide there too.
/// </summary>
public sealed class InotifyTree : IDisposable
{
    private const uint DirectoryMask = Interop.Sys.IN_MODIFY | Interop.Sys.IN_ATTRIB | Interop.Sys.IN_CLOSE_WRITE |
        Interop.Sys.IN_MOVED_FROM | Interop.Sys.IN_MOVED_TO | Interop.Sys.IN_CREATE | Interop.Sys.IN_DELETE |
        Interop.Sys.IN_DELETE_SELF | Interop.Sys.IN_ONLYDIR | Interop.Sys.IN_DONT_FOLLOW | Interop.Sys.IN_EXCL_UNLINK;

    private readonly SafeFdHandle _fd;
    private readonly EpollRegistration _registration;
    private readonly Action<TreeChange> _onChange;
    private readonly Lock _gate = new();
    private readonly Dictionary<int, string> _directories = [];
    private readonly Dictionary<string, int> _byPath = new(StringComparer.Ordinal);
    private readonly int _maxWatches;
    private bool _disposed;

    private InotifyTree(SafeFdHandle fd, Action<TreeChange> onChange, int maxWatches)
    {
        _fd = fd;
        _onChange = onChange;
        _maxWatches = maxWatches;
        _registration = EpollLoop.Shared.Watch(fd, EpollMode.Level, _ => Drain());
    }

    /// <summary>A new inotify instance. Throws <see cref="IOException"/> with the errno when there is
    /// none to be had (EMFILE: fs.inotify.max_user_instances reached).</summary>
    /// <param name="maxWatches">At most this many directories; one more fails as the kernel's limit does (ENOSPC).</param>
    public static InotifyTree Open(Action<TreeChange> onChange, int maxWatches = int.MaxValue)
    {
        int fd = Interop.Sys.InotifyInit1(Interop.Sys.IN_NONBLOCK | Interop.Sys.IN_CLOEXEC);
        if (fd < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            throw new IOException($"inotify_init1: {Interop.Sys.StrError(errno)}", errno);
        }
        var handle = new SafeFdHandle(fd);
        try
        {
            return new InotifyTree(handle, onChange, maxWatches);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>The errno <see cref="AddTree"/> returns when the watch limit is reached.</summary>
    public const int LimitReached = Interop.Sys.ENOSPC;

    /// <summary>The system's text for an errno AddTree returned.</summary>
    public static string ErrorText(int errno) => Interop.Sys.StrError(errno);

    /// <summary>How many directories are watched.</summary>
    public int WatchCount { get { lock (_gate) return _directories.Count; } }

    /// <summary>
    /// Watches <paramref name="root"/> and every directory under it that <paramref name="skip"/> does not
    /// reject (it gets full paths; a skipped directory's subtree is not walked). Symbolic links are not
    /// followed. Returns 0, or the errno that stopped it: ENOSPC when the watch limit is reached (the
    /// kernel's fs.inotify.max_user_watches or this tree's own), after which the tree is incomplete.
    /// A directory that vanished during the walk is skipped.
    /// </summary>
    public int AddTree(string root, Func<string, bool> skip)
    {
        var pending = new Stack<string>();
        pending.Push(root);
        while (pending.Count > 0)
        {
            string dir = pending.Pop();
            int errno = AddDirectory(dir);
            if (errno == Interop.Sys.ENOENT || errno == Interop.Sys.ENOTDIR || errno == Interop.Sys.EACCES) continue;
            if (errno != 0) return errno;
            IEnumerable<string> children;
            try
            {
                children = Directory.EnumerateDirectories(dir, "*", new EnumerationOptions { AttributesToSkip = FileAttributes.ReparsePoint, IgnoreInaccessible = true });
                foreach (string child in children)
                {
                    if (!skip(child)) pending.Push(child);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // gone or unreadable meanwhile: what was watched stays watched
            }
        }
        return 0;
    }

    private int AddDirectory(string dir)
    {
        lock (_gate)
        {
            if (_disposed) return Interop.Sys.EBADF;
            if (_byPath.ContainsKey(dir)) return 0;
            if (_directories.Count >= _maxWatches) return Interop.Sys.ENOSPC;
            int wd = Interop.Sys.InotifyAddWatch(_fd, dir, DirectoryMask);
            if (wd < 0) return Marshal.GetLastPInvokeError();
            // The same inode under two paths (a bind mount) gets the same wd: the last path names it.
            if (_directories.TryGetValue(wd, out string? previous)) _byPath.Remove(previous);
            _directories[wd] = dir;
            _byPath[dir] = wd;
            return 0;
        }
    }

    /// <summary>On the loop thread: reads every pending event and reports each.</summary>
    private unsafe void Drain()
    {
        byte[] buffer = new byte[16 * 1024];
        var changes = new List<TreeChange>();
        while (true)
        {
            nint n;
            fixed (byte* p = buffer) n = Interop.Sys.Read(_fd, p, (nuint)buffer.Length);
            if (n <= 0) break;
            lock (_gate)
            {
                for (int offset = 0; offset + Interop.Sys.InotifyEventHeaderSize <= n;)
                {
                    int wd = BinaryPrimitives.ReadInt32LittleEndian(buffer.AsSpan(offset));
                    uint mask = BinaryPrimitives.ReadUInt32LittleEndian(buffer.AsSpan(offset + 4));
                    int length = (int)BinaryPrimitives.ReadUInt32LittleEndian(buffer.AsSpan(offset + 12));
                    ReadOnlySpan<byte> name = buffer.AsSpan(offset + Interop.Sys.InotifyEventHeaderSize, length);
                    offset += Interop.Sys.InotifyEventHeaderSize + length;
                    if ((mask & Interop.Sys.IN_Q_OVERFLOW) != 0)
                    {
                        changes.Add(new TreeChange("", false, true));
                        continue;
                    }
                    if (!_directories.TryGetValue(wd, out string? dir)) continue;
                    if ((mask & Interop.Sys.IN_IGNORED) != 0)
                    {
                        _directories.Remove(wd);
                        if (_byPath.TryGetValue(dir, out int current) && current == wd) _byPath.Remove(dir);
                        continue;
                    }
                    int end = name.IndexOf((byte)0);
                    string path = end == 0 || name.Length == 0 ? dir : Path.Combine(dir, Encoding.UTF8.GetString(end < 0 ? name : name[..end]));
                    bool isDir = (mask & Interop.Sys.IN_ISDIR) != 0;
                    bool created = isDir && (mask & (Interop.Sys.IN_CREATE | Interop.Sys.IN_MOVED_TO)) != 0;
                    // A directory's own attribute changes (its mtime moves with every entry) say nothing new.
                    if (isDir && !created && (mask & (Interop.Sys.IN_ATTRIB | Interop.Sys.IN_MODIFY)) != 0) continue;
                    if (isDir && (mask & (Interop.Sys.IN_MOVED_FROM | Interop.Sys.IN_DELETE)) != 0)
                    {
                        // Moved away or deleted: its watch (if any) now names a path that is not there.
                        if (_byPath.Remove(path, out int moved))
                        {
                            _directories.Remove(moved);
                            if ((mask & Interop.Sys.IN_MOVED_FROM) != 0) _ = Interop.Sys.InotifyRmWatch(_fd, moved);
                        }
                    }
                    changes.Add(new TreeChange(path, created, false));
                }
            }
        }
        foreach (TreeChange change in changes) _onChange(change);
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
        }
        _registration.Dispose();
        _fd.Dispose();
    }
}
