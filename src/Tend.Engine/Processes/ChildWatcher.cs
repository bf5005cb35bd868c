using System.Collections.Concurrent;
using System.Runtime.InteropServices;

namespace Tend.Processes;

/// <summary>
/// One thread waits for the exit of every watched process. A pidfd becomes readable when its
/// process has exited, so a single epoll set over all live pidfds replaces the thread-per-child
/// (or SIGCHLD + waitpid(-1)) designs: nothing here ever touches a child it does not own.
/// </summary>
/// <remarks>
/// epoll_ctl may be called from any thread while another sits in epoll_wait, and a descriptor
/// added that way (even one that is already readable) wakes the waiter, so additions need no
/// extra wake-up channel. Each registration is keyed by a sequence number, not by the descriptor,
/// so that a descriptor number recycled after close can never be confused with an old entry.
/// A pidfd is removed from the set (EPOLL_CTL_DEL) on the watcher thread before its callback runs
/// and its owner closes it only after that callback, so the set never holds a stale descriptor.
/// </remarks>
internal static class ChildWatcher
{
    private sealed record Registration(SafePidFdHandle PidFd, Action OnReadable);

    private static readonly ConcurrentDictionary<ulong, Registration> s_registrations = new();
    private static readonly Lazy<int> s_epoll = new(StartWatcherThread, LazyThreadSafetyMode.ExecutionAndPublication);
    private static ulong s_nextId;

    /// <summary>Calls <paramref name="onReadable"/> once, on the watcher thread, when the pidfd becomes
    /// readable (the process has exited). The callback must be quick and must not throw.</summary>
    /// <returns>0, or the errno of a failed epoll_create1/epoll_ctl (then nothing is watched).</returns>
    public static unsafe int Watch(SafePidFdHandle pidFd, Action onReadable)
    {
        int epoll = s_epoll.Value;
        if (epoll < 0) return -epoll;
        ulong id = Interlocked.Increment(ref s_nextId);
        s_registrations[id] = new Registration(pidFd, onReadable);

        byte* ev = stackalloc byte[16];
        *(uint*)ev = Interop.Sys.EPOLLIN;
        *(ulong*)(ev + Interop.Sys.EpollEventDataOffset) = id;
        bool added = false;
        pidFd.DangerousAddRef(ref added);
        try
        {
            if (Interop.Sys.EpollCtl(epoll, Interop.Sys.EPOLL_CTL_ADD, pidFd.Fd, ev) != 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                s_registrations.TryRemove(id, out _);
                return errno;
            }
        }
        finally
        {
            // The reference is dropped here, but the pidfd stays open until its owner's Exited task
            // completes, which only happens after this registration is removed.
            if (added) pidFd.DangerousRelease();
        }
        return 0;
    }

    /// <summary>The epoll descriptor, or -errno if it could not be created.</summary>
    private static int StartWatcherThread()
    {
        int epoll = Interop.Sys.EpollCreate1(Interop.Sys.EPOLL_CLOEXEC);
        if (epoll < 0) return -Marshal.GetLastPInvokeError();
        var thread = new Thread(() => Run(epoll)) { IsBackground = true, Name = "Tend child watcher" };
        thread.Start();
        return epoll;
    }

    private static unsafe void Run(int epoll)
    {
        const int MaxEvents = 64;
        int size = Interop.Sys.EpollEventSize;
        byte* events = stackalloc byte[MaxEvents * 16];
        while (true)
        {
            int n = Interop.Sys.EpollWait(epoll, events, MaxEvents, -1);
            if (n < 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                if (errno == Interop.Sys.EINTR) continue;
                // Only EBADF/EFAULT/EINVAL are possible, all programming errors; without this
                // thread no child would ever be seen to exit, so failing loudly is the only option.
                Environment.FailFast($"epoll_wait failed: {Interop.Sys.StrError(errno)}");
            }
            for (int i = 0; i < n; i++)
            {
                ulong id = *(ulong*)(events + (i * size) + Interop.Sys.EpollEventDataOffset);
                if (!s_registrations.TryRemove(id, out var registration)) continue;
                Interop.Sys.EpollCtl(epoll, Interop.Sys.EPOLL_CTL_DEL, registration.PidFd.Fd, null);
                registration.OnReadable();
            }
        }
    }
}
