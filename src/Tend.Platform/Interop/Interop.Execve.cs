using System.Runtime.InteropServices;

namespace Tend;

internal static partial class Interop
{
    internal static partial class Sys
    {
        /// <summary>execve(2): argv and envp are NULL-terminated arrays of NUL-terminated UTF-8 strings. Returns only on failure.</summary>
        [LibraryImport(Libraries.Libc, EntryPoint = "execve", SetLastError = true)]
        internal static unsafe partial int Execve(byte* path, byte** argv, byte** envp);
    }
}
