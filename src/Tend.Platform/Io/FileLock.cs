using System.Runtime.InteropServices;

namespace Tend.Io;

/// <summary>Advisory whole-file locks (flock(2)): held until the handle closes or the process dies, however it dies.</summary>
public static class FileLock
{
    /// <summary>Take an exclusive lock without waiting; false when another open file description holds one.</summary>
    public static bool TryExclusive(SafeHandle file)
    {
        bool added = false;
        try
        {
            file.DangerousAddRef(ref added);
            return Interop.Sys.FLock((int)file.DangerousGetHandle(), Interop.Sys.LOCK_EX | Interop.Sys.LOCK_NB) == 0;
        }
        finally
        {
            if (added) file.DangerousRelease();
        }
    }
}
