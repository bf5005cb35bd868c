using System.Runtime.InteropServices;

namespace Tend.Daemon;

/// <summary>
/// One daemon per TEND_HOME: an exclusive flock on $TEND_HOME/daemon.pid, held for the daemon's
/// life. The kernel drops the lock when the process dies, however it dies, so a stale pid file
/// never blocks a new daemon, and two racing starts can never both win.
/// </summary>
internal sealed partial class DaemonLock : IDisposable
{
    private const int LOCK_EX = 2, LOCK_NB = 4;
    private readonly FileStream _file;

    private DaemonLock(FileStream file, string path)
    {
        _file = file;
        Path = path;
    }

    public string Path { get; }

    /// <summary>Take the lock, or return null with the pid of the daemon that holds it.</summary>
    public static DaemonLock? TryAcquire(string home, out int? holderPid)
    {
        string path = System.IO.Path.Combine(home, "daemon.pid");
        var file = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.ReadWrite, 1);
        if (flock((int)file.SafeFileHandle.DangerousGetHandle(), LOCK_EX | LOCK_NB) != 0)
        {
            holderPid = null;
            try
            {
                using var reader = new StreamReader(file, leaveOpen: true);
                if (int.TryParse(reader.ReadToEnd().Trim(), out int pid)) holderPid = pid;
            }
            catch (IOException) { }
            file.Dispose();
            return null;
        }
        file.SetLength(0);
        byte[] pidText = System.Text.Encoding.ASCII.GetBytes(Environment.ProcessId + "\n");
        file.Write(pidText);
        file.Flush(flushToDisk: true);
        holderPid = Environment.ProcessId;
        return new DaemonLock(file, path);
    }

    public void Dispose()
    {
        try { File.Delete(Path); } catch (IOException) { }
        _file.Dispose();
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int flock(int fd, int operation);
}
