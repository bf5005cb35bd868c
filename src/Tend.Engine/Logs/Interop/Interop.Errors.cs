using System.Runtime.InteropServices;

namespace Tend.Logs;

// The log files are opened with open(2) rather than File.OpenHandle because .NET implements
// FileMode.Append as "seek to the end once", not O_APPEND. Several instances may share one
// configured log path ({instance} is optional), and only O_APPEND makes their writes land
// at the real end of the file instead of overwriting each other.
// This Interop class is nested in Tend.Logs on purpose: the process layer owns Tend.Interop.
internal static partial class Interop
{
    internal static partial class Sys
    {
        internal const int EINTR = 4;

        /// <summary>Every failed call in the log layer surfaces as one exception type.</summary>
        internal static IOException GetIOException(int errno, string path) =>
            new($"{path}: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})", errno);
    }
}
