using System.Runtime.InteropServices;

namespace Tend.Io;

/// <summary>Socket options .NET does not set the way Tend needs them.</summary>
public static class SocketOptions
{
    /// <summary>
    /// SO_REUSEADDR through setsockopt(2) itself: .NET's ReuseAddress option on Linux also sets
    /// SO_REUSEPORT, which would let a second daemon bind the same port. Null when set, else why not.
    /// </summary>
    public static unsafe string? SetReuseAddress(SafeHandle socket)
    {
        bool added = false;
        try
        {
            socket.DangerousAddRef(ref added);
            int one = 1;
            return Interop.Sys.SetSockOpt((int)socket.DangerousGetHandle(), Interop.Sys.SOL_SOCKET, Interop.Sys.SO_REUSEADDR, &one, sizeof(int)) == 0
                ? null
                : Interop.Sys.StrError(Marshal.GetLastPInvokeError());
        }
        finally
        {
            if (added) socket.DangerousRelease();
        }
    }
}
