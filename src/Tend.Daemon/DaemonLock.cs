using System.Runtime.InteropServices;

namespace Tend.Daemon;

/// <summary>
/// One daemon per TEND_HOME: an exclusive flock on $TEND_HOME/daemon.lock, held for the daemon's
/// life. The kernel drops the lock when the process dies, however it dies, so a stale file never
/// blocks a new daemon, and two racing starts can never both win. The pid goes to a separate
/// daemon.pid: .NET takes a shared flock when it opens a file for reading, which our exclusive
/// lock would refuse, so anyone reading the pid must not have to touch the locked file.
/// </summary>
internal sealed class DaemonLock : IDisposable
{
    private readonly SafeHandle _lockFile;
    private readonly string _pidPath;

    private DaemonLock(SafeHandle lockFile, string pidPath)
    {
        _lockFile = lockFile;
        _pidPath = pidPath;
    }

    /// <summary>The locked file, kept open across execve by an upgrade so the lock is never let go.</summary>
    public SafeHandle Handle => _lockFile;

    /// <summary>
    /// <see cref="TryAcquire"/>, waiting up to <paramref name="exitingGrace"/> for a holder on its way
    /// out: an exiting daemon deletes daemon.pid first and the lock goes with its process, so a start
    /// right after `tend kill` or a SIGTERM waits for that. A holder whose pid file is there is a
    /// daemon that runs: no wait.
    /// </summary>
    public static DaemonLock? Acquire(string home, out int? holderPid, SafeHandle? inherited, TimeSpan exitingGrace)
    {
        DaemonLock? taken = TryAcquire(home, out holderPid, inherited);
        long deadline = Environment.TickCount64 + (long)exitingGrace.TotalMilliseconds;
        while (taken is null && holderPid is null && Environment.TickCount64 < deadline)
        {
            Thread.Sleep(20);
            taken = TryAcquire(home, out holderPid);
        }
        return taken;
    }

    /// <summary>
    /// Take the lock, or return null with the pid of the daemon that holds it. <paramref name="inherited"/>:
    /// the lock file as the image this process replaced held it (an upgrade); its lock is ours already.
    /// </summary>
    public static DaemonLock? TryAcquire(string home, out int? holderPid, SafeHandle? inherited = null)
    {
        string pidPath = Path.Combine(home, "daemon.pid");
        SafeHandle? handle = inherited;
        if (handle is null)
        {
            try
            {
                // .NET may take a shared flock here itself; against a live daemon's exclusive one
                // that open fails, which means the same as our own flock failing.
                handle = File.OpenHandle(Path.Combine(home, "daemon.lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
            }
            catch (IOException) { }
        }
        if (handle is null || !Tend.Io.FileLock.TryExclusive(handle))
        {
            handle?.Dispose();
            holderPid = null;
            try { holderPid = int.TryParse(File.ReadAllText(pidPath).Trim(), out int pid) ? pid : null; }
            catch (IOException) { }
            return null;
        }
        string tmp = pidPath + ".tmp";
        File.WriteAllText(tmp, Environment.ProcessId + "\n");
        File.Move(tmp, pidPath, overwrite: true);
        holderPid = Environment.ProcessId;
        return new DaemonLock(handle, pidPath);
    }

    public void Dispose()
    {
        try { File.Delete(_pidPath); } catch (IOException) { }
        _lockFile.Dispose();
    }
}
