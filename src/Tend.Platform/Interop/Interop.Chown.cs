using System.Runtime.InteropServices;

namespace Tend;

internal static partial class Interop
{
    internal static partial class Sys
    {
        /// <summary>lchown(2); uid or gid -1 (as uint: 0xFFFFFFFF) leaves that one unchanged.</summary>
        [LibraryImport(Libraries.Libc, EntryPoint = "lchown", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
        internal static partial int LChown(string path, uint uid, uint gid);
    }
}
