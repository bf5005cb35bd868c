using System.Runtime.InteropServices;

namespace Tend;

internal static partial class Interop
{
    internal static partial class Sys
    {
        internal const int P_ALL = 0, P_PID = 1, P_PGID = 2, P_PIDFD = 3;
        internal const int WNOHANG = 1, WEXITED = 4, WNOWAIT = 0x01000000;
        internal const int CLD_EXITED = 1, CLD_KILLED = 2, CLD_DUMPED = 3;

        // siginfo_t is 128 bytes on every Linux architecture. For SIGCHLD the fields we need
        // sit at fixed offsets on 64-bit targets: si_code at 8, si_pid at 16, si_status at 24.
        [StructLayout(LayoutKind.Explicit, Size = 128)]
        internal struct SigInfo
        {
            [FieldOffset(0)] public int Signo;
            [FieldOffset(8)] public int Code;
            [FieldOffset(16)] public int Pid;
            [FieldOffset(24)] public int Status;
        }

        [LibraryImport(Libraries.Libc, EntryPoint = "waitid", SetLastError = true)]
        internal static unsafe partial int WaitId(int idType, int id, SigInfo* info, int options);

        /// <summary>waitid(P_PIDFD, …) on a held pidfd (see <see cref="PidFdSendSignal"/>).</summary>
        internal static unsafe int WaitId(SafeHandle pidfd, SigInfo* info, int options)
        {
            bool added = false;
            try
            {
                pidfd.DangerousAddRef(ref added);
                return WaitId(P_PIDFD, (int)pidfd.DangerousGetHandle(), info, options);
            }
            finally
            {
                if (added) pidfd.DangerousRelease();
            }
        }

        [LibraryImport(Libraries.Libc, EntryPoint = "waitpid", SetLastError = true)]
        internal static unsafe partial int WaitPid(int pid, int* status, int options);
    }
}
