using System.Runtime.InteropServices;

namespace Tend;

internal static partial class Interop
{
    internal static partial class Sys
    {
        // glibc x86-64 sizes are 336 (posix_spawnattr_t), 80 (posix_spawn_file_actions_t) and
        // 128 (sigset_t). They are only ever handled as opaque buffers initialised by libc, so
        // we allocate more than that to stay safe on other architectures and future layouts.
        internal const nuint SpawnAttrSize = 1024;
        internal const nuint SpawnFileActionsSize = 256;
        internal const nuint SigSetSize = 256;

        // glibc's flag values (spawn.h).
        internal const short POSIX_SPAWN_SETSIGDEF = 0x04;
        internal const short POSIX_SPAWN_SETSIGMASK = 0x08;
        internal const short POSIX_SPAWN_SETSID = 0x80;

        // The posix_spawn family returns the error number instead of setting errno, so none of
        // these use SetLastError.

        [LibraryImport(Libraries.Libc, EntryPoint = "posix_spawn")]
        internal static unsafe partial int PosixSpawn(int* pid, byte* path, void* fileActions, void* attr, byte** argv, byte** envp);

        [LibraryImport(Libraries.Libc, EntryPoint = "posix_spawnattr_init")]
        internal static unsafe partial int PosixSpawnAttrInit(void* attr);

        [LibraryImport(Libraries.Libc, EntryPoint = "posix_spawnattr_destroy")]
        internal static unsafe partial int PosixSpawnAttrDestroy(void* attr);

        [LibraryImport(Libraries.Libc, EntryPoint = "posix_spawnattr_setflags")]
        internal static unsafe partial int PosixSpawnAttrSetFlags(void* attr, short flags);

        [LibraryImport(Libraries.Libc, EntryPoint = "posix_spawnattr_setsigdefault")]
        internal static unsafe partial int PosixSpawnAttrSetSigDefault(void* attr, void* sigset);

        [LibraryImport(Libraries.Libc, EntryPoint = "posix_spawnattr_setsigmask")]
        internal static unsafe partial int PosixSpawnAttrSetSigMask(void* attr, void* sigset);

        [LibraryImport(Libraries.Libc, EntryPoint = "posix_spawn_file_actions_init")]
        internal static unsafe partial int PosixSpawnFileActionsInit(void* fileActions);

        [LibraryImport(Libraries.Libc, EntryPoint = "posix_spawn_file_actions_destroy")]
        internal static unsafe partial int PosixSpawnFileActionsDestroy(void* fileActions);

        [LibraryImport(Libraries.Libc, EntryPoint = "posix_spawn_file_actions_addopen")]
        internal static unsafe partial int PosixSpawnFileActionsAddOpen(void* fileActions, int fd, byte* path, int oflag, uint mode);

        [LibraryImport(Libraries.Libc, EntryPoint = "posix_spawn_file_actions_adddup2")]
        internal static unsafe partial int PosixSpawnFileActionsAddDup2(void* fileActions, int fd, int newFd);

        // glibc 2.29+.
        [LibraryImport(Libraries.Libc, EntryPoint = "posix_spawn_file_actions_addchdir_np")]
        internal static unsafe partial int PosixSpawnFileActionsAddChdir(void* fileActions, byte* path);

        // glibc 2.34+.
        [LibraryImport(Libraries.Libc, EntryPoint = "posix_spawn_file_actions_addclosefrom_np")]
        internal static unsafe partial int PosixSpawnFileActionsAddCloseFrom(void* fileActions, int from);
    }
}
