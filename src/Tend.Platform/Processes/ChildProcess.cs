using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using Tend.Io;
using Tend.Isolation;

namespace Tend.Processes;

/// <summary>
/// A process we started (or adopted from a previous daemon), held by its pidfd.
/// </summary>
/// <remarks>
/// <para>Why a pidfd: a bare pid can be recycled by the kernel the moment its process is reaped, and a
/// signal sent by number after that lands on a stranger. pidfd_send_signal targets the very process
/// the descriptor was opened for and fails with ESRCH once it is gone. The pidfd also becomes
/// readable when the process exits, which lets one shared <see cref="ChildWatcher"/> thread wait for
/// all children at once.</para>
/// <para>Why process groups: every child is started in a new session, so it leads a process group whose
/// id equals its pid, and everything it forks stays in that group unless it deliberately leaves.
/// Stopping signals the whole group, and once the leader has exited whatever is left of the group is
/// SIGKILLed: a crashed parent must not leave grandchildren behind. kill(-pgid) after the leader's
/// death is safe because the kernel does not hand out a number that is still in use as a process
/// group id, so as long as any member is alive the number names this group. For our own children
/// the leftovers are killed before the leader is reaped, while its zombie still pins the number.</para>
/// </remarks>
public sealed partial class ChildProcess : IAsyncDisposable
{
    /// <summary>Live processes held by a ChildProcess, by pid. <see cref="ZombieReaper"/> leaves these to
    /// the watcher, which reaps them through their pidfd.</summary>
    private static readonly ConcurrentDictionary<int, ChildProcess> s_live = new();

    /// <summary>Spawning takes this for reading, from posix_spawn until the new pid is in
    /// <see cref="s_live"/> and its pidfd is open; <see cref="ZombieReaper"/> takes it for writing around
    /// "peek at a zombie, decide it is foreign, reap it". Without it the reaper could reap a fresh
    /// child before we even know its pid, and pidfd_open would then find nothing (or a stranger).</summary>
    internal static readonly ReaderWriterLockSlim ReapLock = new(LockRecursionPolicy.NoRecursion);

    private readonly SafeFdHandle _pidFd;
    private readonly bool _isOurChild;
    private readonly TimeProvider _timeProvider;
    private readonly TaskCompletionSource<ExitStatus> _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool _mayReap = true;
    private int _disposed;
    // Set while a graceful stop runs (the stop signal went to the group, kill_timeout not over): a
    // leader that exits first does not cut its group's own shutdown short.
    private volatile bool _draining;

    private ChildProcess(int pid, SafeFdHandle pidFd, bool isOurChild, TimeProvider timeProvider,
        SafeFdHandle? standardOutput, SafeFdHandle? standardError)
    {
        // kill(-1) and kill(0) mean "everyone" and "my own group": a pid like that must never get here.
        if (pid <= 1) throw new ArgumentOutOfRangeException(nameof(pid), pid, "not a valid child pid");
        Pid = pid;
        _pidFd = pidFd;
        _isOurChild = isOurChild;
        _timeProvider = timeProvider;
        StandardOutput = standardOutput;
        StandardError = standardError;
    }

    public int Pid { get; }

    /// <summary>The cgroup every process of this child lives in, when it was started in one.</summary>
    public InstanceCgroup? Cgroup { get; private init; }

    /// <summary>Without a cgroup: the environment entries that mark this child's escaped processes (see <see cref="SpawnRequest.EscapeMarkers"/>).</summary>
    internal IReadOnlyList<string> EscapeMarkers { get; private init; } = [];

    /// <summary>Start time in clock ticks since boot (field 22 of /proc/&lt;pid&gt;/stat). Together with
    /// <see cref="Pid"/> it identifies the process across pid reuse; persist both, never the pid alone.</summary>
    public ulong StartTime { get; private set; }

    /// <summary>Read end of the stdout pipe, non-blocking (watch it on an <see cref="EpollLoop"/>), or null
    /// when output is not redirected or the process was adopted. Whoever reads it owns it.</summary>
    public SafeFdHandle? StandardOutput { get; }

    /// <summary>Read end of the stderr pipe, like <see cref="StandardOutput"/>.</summary>
    public SafeFdHandle? StandardError { get; }

    /// <summary>Our end of the child's channel (<see cref="SpawnRequest.Channel"/>): a unix stream
    /// socket, close-on-exec. Whoever wraps it in a Socket owns it from then on; otherwise it is
    /// closed with this child.</summary>
    public System.Net.Sockets.SafeSocketHandle? Channel { get; private init; }

    /// <summary>Completes once the process has exited and (if it is our child) been reaped, and every
    /// other process of its group is gone too (see <see cref="OnExited"/>). Never faults. For an
    /// adopted process that is not our child the status is unknown (both fields null).</summary>
    public Task<ExitStatus> Exited => _exited.Task;

    /// <summary>True while a ChildProcess holds <paramref name="pid"/> and will reap it itself.</summary>
    internal static bool IsHeld(int pid) => s_live.ContainsKey(pid);

    /// <summary>Opens a process left running by a previous daemon. Returns null if <paramref name="pid"/> no
    /// longer exists or now belongs to a different process (its start time differs).</summary>
    /// <param name="cgroup">The instance's cgroup, when it ran in one: stopping then kills all of it and waits for it to empty.</param>
    public static ChildProcess? Adopt(int pid, ulong startTime, TimeProvider? timeProvider = null, InstanceCgroup? cgroup = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(pid, 1);
        int fd = Interop.Sys.PidFdOpen(pid);
        if (fd < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            if (errno == Interop.Sys.ESRCH) return null;
            throw SpawnException.ForAdopt(pid, errno, "pidfd_open");
        }
        var pidFd = new SafeFdHandle(fd);

        // Checked after opening: if the process with this start time holds the pid now, it held it
        // when the pidfd was opened too (a process keeps its pid for life), so the pidfd is its.
        if (ProcStat.ReadStartTime(pid) != startTime)
        {
            pidFd.Dispose();
            return null;
        }
        // Still our child when this process replaced its image (execve keeps the children): then its
        // exit status can be reaped as for one we started. After a crash of the daemon it is not.
        bool ours = ProcStat.ReadParentPid(pid) == Environment.ProcessId;
        var process = new ChildProcess(pid, pidFd, isOurChild: ours, timeProvider ?? TimeProvider.System, null, null)
        {
            StartTime = startTime,
            Cgroup = cgroup,
        };
        // Held even though it is (normally) not our child: if we are a subreaper it may have been
        // reparented to us, and then the watcher must be the one to reap it. If another
        // ChildProcess already holds the pid, that one reaps and this one must not steal the status.
        process._mayReap = s_live.TryAdd(pid, process);
        int watchErrno = ChildWatcher.Watch(pidFd, process.OnExited);
        if (watchErrno != 0)
        {
            s_live.TryRemove(new KeyValuePair<int, ChildProcess>(pid, process));
            pidFd.Dispose();
            throw SpawnException.ForAdopt(pid, watchErrno, "epoll_ctl");
        }
        return process;
    }

    /// <summary>Sends <paramref name="signal"/> to this process only (through its pidfd, so never to a
    /// process that reused its pid). False if it has already exited.</summary>
    public bool Signal(int signal)
    {
        ValidateSignal(signal);
        if (_exited.Task.IsCompleted) return false;
        try
        {
            if (Interop.Sys.PidFdSendSignal(_pidFd, signal) == 0) return true;
            return HandleSignalError(Marshal.GetLastPInvokeError());
        }
        catch (ObjectDisposedException)
        {
            return false;
        }
    }

    /// <summary>Sends <paramref name="signal"/> to every process in the child's process group (kill(-pid)).
    /// Also meaningful after the leader has exited, while other members remain. False if the group is empty.</summary>
    public bool SignalGroup(int signal)
    {
        ValidateSignal(signal);
        if (Interop.Sys.Kill(-Pid, signal) == 0) return true;
        return HandleSignalError(Marshal.GetLastPInvokeError());
    }

    /// <summary>SIGKILL to whatever is left of the process group, ignoring an empty group. Runs
    /// automatically when the leader exits (after kill_timeout, during a graceful stop).</summary>
    public void KillGroupLeftovers()
    {
        Interop.Sys.Kill(-Pid, Signals.SIGKILL);
        KillEscaped();
    }

    /// <summary>
    /// SIGKILL to what left the process group: with a cgroup, everything in it (nothing can leave
    /// a cgroup on its own); without, the leader's descendants in other groups (while it lives to
    /// be their ancestor) and the daemon's orphans that carry this child's <see cref="EscapeMarkers"/>.
    /// </summary>
    private void KillEscaped()
    {
        if (Cgroup is not null)
        {
            Cgroup.Kill();
            return;
        }
        if (EscapeMarkers.Count == 0) return;
        foreach (var process in ProcStat.Descendants(Pid))
        {
            if (process.Pgid != Pid) Interop.Sys.Kill(process.Pid, Signals.SIGKILL);
        }
        foreach (int orphan in ProcStat.MarkedOrphans(EscapeMarkers, IsHeld)) Interop.Sys.Kill(orphan, Signals.SIGKILL);
    }

    /// <summary>Whether anything of this child is still alive besides its (zombie) leader.</summary>
    private bool LeftoversRemain()
    {
        if (Cgroup is not null) return Cgroup.IsPopulated();
        // As a subreaper, the group's survivors are our children now: a look at those, not at every
        // process of the machine (that look, per exit, made 100 exec probes a second cost 60 % of a core).
        bool groupLeft = _isOurChild && ZombieReaper.IsChildSubreaper() ? ProcStat.OrphanInGroup(Pid, IsHeld) : ProcStat.GroupHasOtherMembers(Pid, except: Pid);
        return groupLeft ||
            (EscapeMarkers.Count > 0 && ProcStat.MarkedOrphans(EscapeMarkers, IsHeld).Count > 0);
    }

    /// <summary>
    /// The stop ladder: <paramref name="signal"/> to the process group, up to <paramref name="killTimeout"/>
    /// for the leader to exit, then SIGKILL to the group; once the leader is gone, SIGKILL to any
    /// leftovers. <see cref="TimeSpan.Zero"/> kills at once; <see cref="Timeout.InfiniteTimeSpan"/> never
    /// escalates. Cancelling abandons the wait, not the process: it may still be running.
    /// </summary>
    public async Task<ExitStatus> StopAsync(int signal, TimeSpan killTimeout, CancellationToken ct = default)
    {
        ValidateSignal(signal);
        if (killTimeout < TimeSpan.Zero && killTimeout != Timeout.InfiniteTimeSpan)
            throw new ArgumentOutOfRangeException(nameof(killTimeout), killTimeout, "must be >= 0 or infinite");

        if (!_exited.Task.IsCompleted)
        {
            if (killTimeout == TimeSpan.Zero)
            {
                Kill();
            }
            else
            {
                // The leader cannot leave its group (a session leader may not change its pgid), so the
                // group signal reaches it; the pidfd is only a fallback for an unexpected ESRCH.
                // Until kill_timeout the whole group may finish its own shutdown, as systemd's
                // KillMode=control-group gives every process of a unit TimeoutStopSec.
                _draining = true;
                if (!SignalGroup(signal)) Signal(signal);
                if (killTimeout != Timeout.InfiniteTimeSpan)
                {
                    try
                    {
                        await _exited.Task.WaitAsync(killTimeout, _timeProvider, ct).ConfigureAwait(false);
                    }
                    catch (TimeoutException)
                    {
                        Kill();
                    }
                }
            }
        }
        // Exited completes only once the rest of the group is gone too (or could not be waited out).
        return await _exited.Task.WaitAsync(ct).ConfigureAwait(false);
    }

    /// <summary>If still running, SIGKILLs the group and waits for the exit; then closes the pidfd and
    /// the pipe streams. Read the streams to their end before disposing to keep the last output.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        if (!_exited.Task.IsCompleted) Kill();
        await _exited.Task.ConfigureAwait(false);
        // Only now: the watcher has dropped the pidfd from its epoll set before completing Exited.
        _pidFd.Dispose();
        StandardOutput?.Dispose();
        StandardError?.Dispose();
        Channel?.Dispose();
    }

    public override string ToString() => $"pid {Pid}";

    private void Kill()
    {
        _draining = false;
        if (!SignalGroup(Signals.SIGKILL)) Signal(Signals.SIGKILL);
        KillEscaped();
    }

    /// <summary>How long leftovers of a group get to die after SIGKILL before we stop waiting for them
    /// (a process stuck in uninterruptible sleep, on a dead NFS server say, cannot be waited out).</summary>
    private static readonly TimeSpan s_leftoverBound = TimeSpan.FromSeconds(5);

    /// <summary>How often the group is looked at while it empties when nothing tells: there is no
    /// event for "a process group became empty", nor for a v1 cgroup. A v2 cgroup's cgroup.events
    /// does tell (see <see cref="Isolation.CgroupEvents"/>), and then nothing polls.</summary>
    private static readonly TimeSpan s_leftoverPoll = TimeSpan.FromMilliseconds(20);

    /// <summary>
    /// Runs on the watcher thread once the pidfd is readable, i.e. the leader has exited. Whatever is
    /// left of its group is SIGKILLed (unless a graceful stop gives it until kill_timeout), and the
    /// exit completes only when the group is empty: a restart must not start the next process while
    /// the last one's children still hold its port, its lock file or its shared memory (PostgreSQL's
    /// postmaster.pid). Meanwhile the leader stays an unreaped zombie, which pins the group id so
    /// that kill(-pgid) can only ever reach this group. The wait runs off the watcher thread.
    /// </summary>
    private void OnExited()
    {
        // The SIGKILL at once (while the zombie leader pins the group id); the look through /proc
        // for what is left, and any wait, on the thread pool: the watcher serves every child.
        if (!_draining) KillGroupLeftovers();
        _ = Task.Run(WaitForGroupThenCompleteAsync);
    }

    private async Task WaitForGroupThenCompleteAsync()
    {
        try
        {
            long killedAt = _draining ? 0 : System.Diagnostics.Stopwatch.GetTimestamp();
            while (true)
            {
                // With a v2 cgroup the kernel says when it empties (cgroup.events): ask before
                // looking, so a change in between is not missed. Without one, look again in a while.
                Task? change = Cgroup?.NextChange();
                if (!LeftoversRemain()) break;
                TimeSpan wait = s_leftoverPoll;
                if (!_draining)
                {
                    if (killedAt == 0) killedAt = System.Diagnostics.Stopwatch.GetTimestamp();
                    KillGroupLeftovers();
                    TimeSpan left = s_leftoverBound - System.Diagnostics.Stopwatch.GetElapsedTime(killedAt);
                    if (left <= TimeSpan.Zero) break;
                    wait = left;
                }
                else if (change is not null)
                {
                    // Draining: the group has until kill_timeout, after which StopAsync kills it (and
                    // the cgroup's emptying wakes us).
                    wait = Timeout.InfiniteTimeSpan;
                }
                // Real time, not _timeProvider: this waits on the kernel, and a fake clock in a test
                // would never let it end.
                if (change is null) await Task.Delay(s_leftoverPoll).ConfigureAwait(false);
                else await Task.WhenAny(change, Task.Delay(wait)).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // /proc unreadable: go on as if the group were empty; the leftovers got their SIGKILL.
        }
        finally
        {
            Complete();
        }
    }

    private void Complete()
    {
        ExitStatus status = default;
        try
        {
            if (_mayReap) status = Reap();
        }
        finally
        {
            s_live.TryRemove(new KeyValuePair<int, ChildProcess>(Pid, this));
            _exited.TrySetResult(status);
        }
    }

    private unsafe ExitStatus Reap()
    {
        Interop.Sys.SigInfo info = default;
        // A readable pidfd means the process is a zombie (or gone), so a blocking waitid returns at
        // once for our child. An adopted process is normally not our child (ECHILD, status unknown);
        // WNOHANG keeps the watcher safe should that assumption ever be wrong.
        int options = Interop.Sys.WEXITED | (_isOurChild ? 0 : Interop.Sys.WNOHANG);
        int result;
        do
        {
            result = Interop.Sys.WaitId(_pidFd, &info, options);
        }
        while (result < 0 && Marshal.GetLastPInvokeError() == Interop.Sys.EINTR);

        if (result < 0 || info.Pid == 0) return default;
        return info.Code switch
        {
            Interop.Sys.CLD_EXITED => new ExitStatus(info.Status, null),
            Interop.Sys.CLD_KILLED => new ExitStatus(null, info.Status),
            Interop.Sys.CLD_DUMPED => new ExitStatus(null, info.Status) { CoreDumped = true },
            _ => default,
        };
    }

    private static void ValidateSignal(int signal)
    {
        // 0 is the "does it exist" probe, which kill(2) accepts; 64 is SIGRTMAX on Linux.
        ArgumentOutOfRangeException.ThrowIfNegative(signal);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(signal, 64);
    }

    private bool HandleSignalError(int errno) => errno switch
    {
        Interop.Sys.ESRCH => false,
        Interop.Sys.EPERM => throw new UnauthorizedAccessException($"not permitted to signal {this}"),
        _ => throw new InvalidOperationException($"cannot signal {this}: {Interop.Sys.StrError(errno)}"),
    };
}
