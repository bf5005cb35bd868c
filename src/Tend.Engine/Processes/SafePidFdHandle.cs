using System.Runtime.InteropServices;

namespace Tend.Processes;

/// <summary>Owns a pidfd. A SafeHandle (rather than a bare int) so that signalling on one thread
/// and disposing on another can never hit a closed, reused descriptor number.</summary>
internal sealed class SafePidFdHandle : SafeHandle
{
    public SafePidFdHandle(int fd) : base(invalidHandleValue: -1, ownsHandle: true) => SetHandle(fd);

    public override bool IsInvalid => handle == -1;

    public int Fd => (int)handle;

    protected override bool ReleaseHandle() => Interop.Sys.Close((int)handle) == 0;
}
