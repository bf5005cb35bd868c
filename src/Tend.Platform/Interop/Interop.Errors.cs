using System.Runtime.InteropServices;

namespace Tend;

internal static partial class Interop
{
    internal static partial class Sys
    {
        internal const int EPERM = 1, ENOENT = 2, ESRCH = 3, EINTR = 4, ENOEXEC = 8, EBADF = 9, ECHILD = 10,
            EACCES = 13, ENOTDIR = 20, EISDIR = 21, EINVAL = 22, EMFILE = 24, ENOSPC = 28, ERANGE = 34, ENOTCONN = 107;

        /// <summary>strerror text for an errno value ("No such file or directory").</summary>
        internal static string StrError(int errno) => Marshal.GetPInvokeErrorMessage(errno);

        /// <summary>A failed file call as the one exception type file code throws.</summary>
        internal static IOException GetIOException(int errno, string path) =>
            new($"{path}: {StrError(errno)} (errno {errno})", errno);
    }
}
