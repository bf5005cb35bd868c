using System.Runtime.InteropServices;

namespace Tend;

internal static partial class Interop
{
    internal static partial class Sys
    {
        // struct dirent64 on Linux: d_ino (8), d_off (8), d_reclen (2), d_type (1), then d_name.
        internal const int DirentNameOffset = 19;

        /// <summary>A DIR* or null with errno set.</summary>
        [LibraryImport(Libraries.Libc, EntryPoint = "opendir", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
        internal static partial nint OpenDir(string path);

        /// <summary>The next struct dirent64*, or null at the end (errno unchanged) or on an error.</summary>
        [LibraryImport(Libraries.Libc, EntryPoint = "readdir64", SetLastError = true)]
        internal static partial nint ReadDir(nint dir);

        [LibraryImport(Libraries.Libc, EntryPoint = "closedir", SetLastError = true)]
        internal static partial int CloseDir(nint dir);
    }
}
