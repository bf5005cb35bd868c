using System.Runtime.InteropServices;

namespace Tend.Health;

/// <summary>Owns one file descriptor. A SafeHandle (rather than a bare int) so that the hub thread reading
/// from it and another thread disposing it can never meet at a closed, reused descriptor number: the
/// close waits for the last DangerousAddRef to be released.</summary>
internal sealed class SafeFdHandle : SafeHandle
{
    public SafeFdHandle(int fd) : base(invalidHandleValue: -1, ownsHandle: true) => SetHandle(fd);

    public override bool IsInvalid => handle == -1;

    public int Fd => (int)handle;

    protected override bool ReleaseHandle() => Interop.Sys.Close((int)handle) == 0;
}
