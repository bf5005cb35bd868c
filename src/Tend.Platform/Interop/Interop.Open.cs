using System.Runtime.InteropServices;

namespace Tend;

// Log files are opened with open(2) rather than File.OpenHandle because .NET implements
// FileMode.Append as "seek to the end once", not O_APPEND. Several instances may share one
// configured log path, and only O_APPEND makes their writes land at the real end of the file.
internal static partial class Interop
{
    internal static partial class Sys
    {
        // Same values on x86-64 and arm64 Linux.
        internal const int O_WRONLY = 0x1, O_CREAT = 0x40, O_EXCL = 0x80, O_APPEND = 0x400, O_NONBLOCK = 0x800, O_NOFOLLOW = 0x20000, O_CLOEXEC = 0x80000;

        // open(2) is variadic in C; on x86-64 and arm64 Linux the mode lands in the right
        // register when passed as a fixed third int argument, which is how glibc reads it.
        [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
        internal static partial int Open(string path, int flags, int mode);
    }
}
