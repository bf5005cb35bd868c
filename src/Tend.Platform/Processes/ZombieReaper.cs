using System.Runtime.InteropServices;

namespace Tend.Processes;

/// <summary>
/// Reaps orphans when Tend runs as a container's init (PID 1) or as a child subreaper: processes that
/// lost their parent are reparented to us, and unless someone waits for them they stay zombies
/// forever. Our own children are left alone; the <see cref="ChildWatcher"/> reaps those through their
/// pidfds and needs their exit status.
/// </summary>
/// <remarks>
/// <para>The reaper peeks with waitid(P_ALL, WNOWAIT), which reports a zombie child without reaping it,
/// and reaps it by pid only if it is not ours. The decision happens under
/// <see cref="ChildProcess.ReapLock"/>, so a child that was just spawned (its pid not yet recorded)
/// can never be mistaken for an orphan.</para>
/// <para>waitid(P_ALL) keeps reporting the same zombie until it is reaped, so when it reports one of
/// ours the peek loop cannot see past it. Then the reaper scans /proc for zombies whose parent is
/// us instead, reaps the foreign ones, and goes back to sleep until the next SIGCHLD or tick rather
/// than spinning on a zombie the watcher is about to collect.</para>
/// </remarks>
public sealed class ZombieReaper : IDisposable
{
    /// <summary>
    /// A safety net only: every SIGCHLD wakes the reaper, and the event keeps one that arrives during a
    /// pass, so no orphan waits for the tick. Once a second it was one of the few wake-ups of an idle
    /// daemon (bench/notes.md).
    /// </summary>
    private static readonly TimeSpan s_tick = TimeSpan.FromSeconds(30);

    private readonly Func<int, bool> _isOwnChild;
    private readonly AutoResetEvent _wake = new(false);
    private readonly PosixSignalRegistration _sigchld;
    private readonly Thread _thread;
    private volatile bool _stopping;

    private ZombieReaper(Func<int, bool> isOwnChild)
    {
        _isOwnChild = isOwnChild;
        if (!OperatingSystem.IsLinux()) throw new PlatformNotSupportedException();
        _sigchld = PosixSignalRegistration.Create(PosixSignal.SIGCHLD, _ => Wake());
        _thread = new Thread(Run) { IsBackground = true, Name = "Tend zombie reaper" };
        _thread.Start();
    }

    /// <summary>Starts reaping orphaned children until disposed. <paramref name="isOwnChild"/> names
    /// additional pids to leave alone; pids held by a <see cref="ChildProcess"/> always are.</summary>
    public static IDisposable Start(Func<int, bool> isOwnChild)
    {
        ArgumentNullException.ThrowIfNull(isOwnChild);
        return new ZombieReaper(isOwnChild);
    }

    /// <summary>Makes this process a child subreaper (prctl PR_SET_CHILD_SUBREAPER): orphaned
    /// descendants are reparented to us instead of to init. False if the kernel refused.</summary>
    public static bool SetChildSubreaper() => Interop.Sys.Prctl(Interop.Sys.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0;

    /// <summary>Whether this process is a child subreaper now (prctl PR_GET_CHILD_SUBREAPER).</summary>
    public static unsafe bool IsChildSubreaper()
    {
        int value = 0;
        return Interop.Sys.Prctl(Interop.Sys.PR_GET_CHILD_SUBREAPER, (ulong)&value, 0, 0, 0) == 0 && value != 0;
    }

    public void Dispose()
    {
        _stopping = true;
        _sigchld.Dispose();
        _wake.Set();
        _thread.Join();
        _wake.Dispose();
    }

    private void Wake()
    {
        // A SIGCHLD dispatched just before Dispose unregistered the handler can still arrive here
        // after the event is gone; it has nothing left to wake.
        try
        {
            _wake.Set();
        }
        catch (ObjectDisposedException)
        {
        }
    }

    private void Run()
    {
        while (!_stopping)
        {
            ReapOrphans();
            _wake.WaitOne(s_tick);
        }
    }

    private bool IsOwn(int pid) => ChildProcess.IsHeld(pid) || _isOwnChild(pid);

    /// <summary>Reaps every foreign zombie child there is right now.</summary>
    private unsafe void ReapOrphans()
    {
        while (!_stopping)
        {
            ChildProcess.ReapLock.EnterWriteLock();
            try
            {
                Interop.Sys.SigInfo info = default;
                int result = Interop.Sys.WaitId(Interop.Sys.P_ALL, 0, &info,
                    Interop.Sys.WEXITED | Interop.Sys.WNOHANG | Interop.Sys.WNOWAIT);
                if (result < 0)
                {
                    if (Marshal.GetLastPInvokeError() == Interop.Sys.EINTR) continue;
                    return; // ECHILD: no children at all
                }
                if (info.Pid == 0) return; // children, but no zombies
                if (IsOwn(info.Pid))
                {
                    ReapForeignZombiesFromProc();
                    return;
                }
                Interop.Sys.WaitPid(info.Pid, null, Interop.Sys.WNOHANG);
            }
            finally
            {
                ChildProcess.ReapLock.ExitWriteLock();
            }
        }
    }

    /// <summary>Finds our zombie children (state Z) among our own children, as the kernel lists them
    /// per thread, and reaps the foreign ones. Called with the reap lock held. It runs whenever a
    /// SIGCHLD finds one of ours unreaped in front, that is at nearly every child's exit: it must cost
    /// what we have as children, not what the machine runs (a look through all of /proc did, once
    /// per exit: 400 stat files per exec probe on a busy host).</summary>
    private unsafe void ReapForeignZombiesFromProc()
    {
        foreach (int pid in ProcStat.ZombieChildren(IsOwn)) Interop.Sys.WaitPid(pid, null, Interop.Sys.WNOHANG);
    }
}
