using System.Runtime.InteropServices;

namespace Tend;

internal static partial class Interop
{
    internal static partial class Sys
    {
        // struct passwd and struct group as glibc lays them out on 64-bit Linux.
        [StructLayout(LayoutKind.Sequential)]
        internal struct Passwd
        {
            internal nint Name;
            internal nint Password;
            internal uint Uid;
            internal uint Gid;
            internal nint Gecos;
            internal nint Dir;
            internal nint Shell;
        }

        [StructLayout(LayoutKind.Sequential)]
        internal struct Group
        {
            internal nint Name;
            internal nint Password;
            internal uint Gid;
            internal nint Members;
        }

        // The reentrant lookups: they go through NSS (files, LDAP, sssd, ...) like the tools an
        // operator checks with (id, getent), and return 0 with *result null for "no such entry".
        [LibraryImport(Libraries.Libc, EntryPoint = "getpwnam_r", StringMarshalling = StringMarshalling.Utf8)]
        internal static unsafe partial int GetPwNam(string name, Passwd* pwd, byte* buffer, nuint size, Passwd** result);

        [LibraryImport(Libraries.Libc, EntryPoint = "getpwuid_r")]
        internal static unsafe partial int GetPwUid(uint uid, Passwd* pwd, byte* buffer, nuint size, Passwd** result);

        [LibraryImport(Libraries.Libc, EntryPoint = "getgrnam_r", StringMarshalling = StringMarshalling.Utf8)]
        internal static unsafe partial int GetGrNam(string name, Group* grp, byte* buffer, nuint size, Group** result);

        [LibraryImport(Libraries.Libc, EntryPoint = "getgrgid_r")]
        internal static unsafe partial int GetGrGid(uint gid, Group* grp, byte* buffer, nuint size, Group** result);

        /// <summary>The groups <paramref name="user"/> is in (plus <paramref name="group"/>), what initgroups(3)
        /// would set; -1 with *count set to the size needed when the array is too small.</summary>
        [LibraryImport(Libraries.Libc, EntryPoint = "getgrouplist", StringMarshalling = StringMarshalling.Utf8)]
        internal static unsafe partial int GetGroupList(string user, uint group, uint* groups, int* count);

    }
}
