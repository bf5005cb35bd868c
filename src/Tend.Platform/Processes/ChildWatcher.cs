using Tend.Io;

namespace Tend.Processes;

/// <summary>
/// Waits for the exit of every watched process on the shared <see cref="EpollLoop"/>. A pidfd becomes
/// readable when its process has exited, so one epoll set over all live pidfds replaces the
/// thread-per-child (or SIGCHLD + waitpid(-1)) designs: nothing here ever touches a child it does not own.
/// </summary>
/// <remarks>
/// The pidfd leaves the set (one-shot, then EPOLL_CTL_DEL) on the loop thread before its callback
/// runs, and its owner closes it only after that callback, so the set never holds a stale descriptor.
/// </remarks>
internal static class ChildWatcher
{
    /// <summary>Calls <paramref name="onExited"/> once, on the loop thread, when the pidfd becomes
    /// readable (the process has exited). The callback must be quick and must not throw.</summary>
    /// <returns>0, or the errno of a failed epoll_ctl (then nothing is watched).</returns>
    public static int Watch(SafeFdHandle pidFd, Action onExited)
    {
        try
        {
            EpollLoop.Shared.Watch(pidFd, EpollMode.OneShot, registration =>
            {
                registration.Dispose();
                onExited();
            });
            return 0;
        }
        catch (IOException e)
        {
            return e.HResult;
        }
    }
}
