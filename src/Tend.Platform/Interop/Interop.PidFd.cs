using System.Runtime.InteropServices;

namespace Tend;

internal static partial class Interop
{
    internal static partial class Sys
    {
        // Through syscall(2) rather than glibc's wrappers: those only appeared in glibc 2.36,
        // while the system calls exist since Linux 5.3 (pidfd_open) and 5.1 (pidfd_send_signal).
        // The numbers are shared by x86-64 and arm64 (the unified table used for new calls).
        private const long SYS_pidfd_send_signal = 424;
        private const long SYS_pidfd_open = 434;

        // syscall is variadic in C; passing every argument as a long is how the calling
        // conventions of x86-64 and arm64 Linux pass integer varargs, so this is exact.
        [LibraryImport(Libraries.Libc, EntryPoint = "syscall", SetLastError = true)]
        private static partial long Syscall(long number, long arg1, long arg2, long arg3, long arg4);

        /// <summary>A pidfd (O_CLOEXEC is implied) or -1 with errno set.</summary>
        internal static int PidFdOpen(int pid) => (int)Syscall(SYS_pidfd_open, pid, 0, 0, 0);

        /// <summary>0 on success, -1 with errno set (ESRCH once the process has been reaped). The handle is
        /// held for the call, so a concurrent dispose cannot close a descriptor number under it.</summary>
        /// <exception cref="ObjectDisposedException">The pidfd was already closed.</exception>
        internal static int PidFdSendSignal(SafeHandle pidfd, int signal)
        {
            bool added = false;
            try
            {
                pidfd.DangerousAddRef(ref added);
                return (int)Syscall(SYS_pidfd_send_signal, pidfd.DangerousGetHandle(), signal, 0, 0);
            }
            finally
            {
                if (added) pidfd.DangerousRelease();
            }
        }
    }
}
