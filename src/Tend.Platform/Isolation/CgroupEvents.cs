using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Tend.Io;

namespace Tend.Isolation;

/// <summary>
/// Tells when a v2 cgroup's cgroup.events changes (the kernel raises a file-modified event on it
/// when "populated" flips), for everything that waits for a cgroup to empty: one inotify
/// descriptor on the shared <see cref="EpollLoop"/>, so waiting costs no thread and no polling.
/// </summary>
internal static class CgroupEvents
{
    private static readonly Lock s_gate = new();
    private static SafeFdHandle? s_inotify;
    private static readonly Dictionary<int, List<TaskCompletionSource>> s_waiters = [];
    private static readonly Dictionary<string, int> s_watches = new(StringComparer.Ordinal);

    /// <summary>
    /// A task that completes at the next change of <paramref name="eventsFile"/>, or null when it
    /// cannot be watched (no inotify, or the file is gone). Ask first, then look at the state, then
    /// await: a change between the two is not lost.
    /// </summary>
    public static Task? NextChange(string eventsFile)
    {
        var waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (s_gate)
        {
            SafeFdHandle? fd = EnsureInotify();
            if (fd is null) return null;
            if (!s_watches.TryGetValue(eventsFile, out int wd))
            {
                wd = Interop.Sys.InotifyAddWatch(fd, eventsFile, Interop.Sys.IN_MODIFY);
                if (wd < 0) return null;
                s_watches[eventsFile] = wd;
            }
            if (!s_waiters.TryGetValue(wd, out var list)) s_waiters[wd] = list = [];
            list.Add(waiter);
        }
        return waiter.Task;
    }

    /// <summary>Stops watching <paramref name="eventsFile"/> (its cgroup is about to be removed), releasing any waiter.</summary>
    public static void Forget(string eventsFile)
    {
        List<TaskCompletionSource>? waiters = null;
        lock (s_gate)
        {
            if (s_inotify is null || !s_watches.Remove(eventsFile, out int wd)) return;
            _ = Interop.Sys.InotifyRmWatch(s_inotify, wd);
            s_waiters.Remove(wd, out waiters);
        }
        foreach (var w in waiters ?? []) w.TrySetResult();
    }

    private static SafeFdHandle? EnsureInotify()
    {
        if (s_inotify is not null) return s_inotify;
        int fd = Interop.Sys.InotifyInit1(Interop.Sys.IN_NONBLOCK | Interop.Sys.IN_CLOEXEC);
        if (fd < 0) return null;
        var handle = new SafeFdHandle(fd);
        try
        {
            EpollLoop.Shared.Watch(handle, EpollMode.Level, _ => Drain(handle));
        }
        catch (IOException)
        {
            handle.Dispose();
            return null;
        }
        return s_inotify = handle;
    }

    /// <summary>On the loop thread: reads every pending event and wakes the waiters of each watch that changed.</summary>
    private static unsafe void Drain(SafeFdHandle fd)
    {
        Span<byte> buffer = stackalloc byte[4096];
        var woken = new List<TaskCompletionSource>();
        while (true)
        {
            nint n;
            fixed (byte* p = buffer) n = Interop.Sys.Read(fd, p, (nuint)buffer.Length);
            if (n <= 0) break;
            lock (s_gate)
            {
                for (int offset = 0; offset + Interop.Sys.InotifyEventHeaderSize <= n;)
                {
                    int wd = BinaryPrimitives.ReadInt32LittleEndian(buffer[offset..]);
                    uint mask = BinaryPrimitives.ReadUInt32LittleEndian(buffer[(offset + 4)..]);
                    int length = (int)BinaryPrimitives.ReadUInt32LittleEndian(buffer[(offset + 12)..]);
                    offset += Interop.Sys.InotifyEventHeaderSize + length;
                    if (s_waiters.Remove(wd, out var list)) woken.AddRange(list);
                    if ((mask & Interop.Sys.IN_IGNORED) != 0)
                    {
                        // The file went away (its cgroup was removed): the watch is gone with it.
                        foreach (var (path, id) in s_watches.Where(w => w.Value == wd).ToList()) s_watches.Remove(path);
                    }
                }
            }
        }
        foreach (var w in woken) w.TrySetResult();
    }
}
