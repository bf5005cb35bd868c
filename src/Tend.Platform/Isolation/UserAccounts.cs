using System.Globalization;
using System.Runtime.InteropServices;

namespace Tend.Isolation;

/// <summary>A user as the user database (NSS: /etc/passwd, LDAP, ...) knows it.</summary>
public sealed record UserAccount(string Name, uint Uid, uint Gid, string Home, string Shell);

/// <summary>A group as the group database knows it.</summary>
public sealed record GroupAccount(string Name, uint Gid);

/// <summary>Lookups in the user and group databases through libc, so whatever NSS serves (files, LDAP,
/// sssd) answers, as it does for id(1) and getent(1).</summary>
public static class UserAccounts
{
    /// <summary>The user named <paramref name="nameOrId"/>, or with that numeric id; null if there is none.</summary>
    public static unsafe UserAccount? FindUser(string nameOrId)
    {
        ArgumentException.ThrowIfNullOrEmpty(nameOrId);
        bool numeric = uint.TryParse(nameOrId, NumberStyles.None, CultureInfo.InvariantCulture, out uint uid);
        return Lookup<Interop.Sys.Passwd, UserAccount>((entry, buffer, size, result) => numeric
                ? Interop.Sys.GetPwUid(uid, entry, buffer, size, result)
                : Interop.Sys.GetPwNam(nameOrId, entry, buffer, size, result),
            p => new UserAccount(Text(p->Name), p->Uid, p->Gid, Text(p->Dir), Text(p->Shell)));
    }

    /// <summary>The group named <paramref name="nameOrId"/>, or with that numeric id; null if there is none.</summary>
    public static unsafe GroupAccount? FindGroup(string nameOrId)
    {
        ArgumentException.ThrowIfNullOrEmpty(nameOrId);
        bool numeric = uint.TryParse(nameOrId, NumberStyles.None, CultureInfo.InvariantCulture, out uint gid);
        return Lookup<Interop.Sys.Group, GroupAccount>((entry, buffer, size, result) => numeric
                ? Interop.Sys.GetGrGid(gid, entry, buffer, size, result)
                : Interop.Sys.GetGrNam(nameOrId, entry, buffer, size, result),
            g => new GroupAccount(Text(g->Name), g->Gid));
    }

    /// <summary>A numeric id with no database entry is still a valid id to run as (as setpriv and
    /// systemd's User= with a number accept it); this says whether the text is one.</summary>
    public static bool IsNumericId(string text) => uint.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out _);

    /// <summary>The supplementary groups initgroups(3) would give <paramref name="user"/> with primary
    /// group <paramref name="gid"/> (the primary group included).</summary>
    public static unsafe uint[] GroupsOf(string user, uint gid)
    {
        int count = 32;
        while (true)
        {
            uint[] groups = new uint[count];
            int n = count;
            int result;
            fixed (uint* p = groups) result = Interop.Sys.GetGroupList(user, gid, p, &n);
            if (result >= 0) return groups[..result];
            // Too small: n is the size needed now (grow at least a little in case it changes meanwhile).
            count = Math.Max(n, count * 2);
            if (count > 1 << 16) return [gid];
        }
    }

    private unsafe delegate int LookupCall<TEntry>(TEntry* entry, byte* buffer, nuint size, TEntry** result) where TEntry : unmanaged;

    private unsafe delegate TResult Convert<TEntry, TResult>(TEntry* entry) where TEntry : unmanaged;

    private static unsafe TResult? Lookup<TEntry, TResult>(LookupCall<TEntry> call, Convert<TEntry, TResult> convert)
        where TEntry : unmanaged where TResult : class
    {
        // Native memory: the entry's strings point into the buffer, which must not move.
        for (nuint size = 1024; size <= 1 << 20; size *= 4)
        {
            byte* buffer = (byte*)NativeMemory.Alloc(size);
            try
            {
                TEntry entry;
                TEntry* result = null;
                int error = call(&entry, buffer, size, &result);
                if (error == Interop.Sys.ERANGE) continue;
                return error != 0 || result == null ? null : convert(result);
            }
            finally
            {
                NativeMemory.Free(buffer);
            }
        }
        return null;
    }

    private static unsafe string Text(nint p) => p == 0 ? "" : Marshal.PtrToStringUTF8(p) ?? "";
}
