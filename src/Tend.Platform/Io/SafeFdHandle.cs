using System.Runtime.InteropServices;

namespace Tend.Io;

/// <summary>
/// Owns one file descriptor: a pidfd, a pipe end, a socket, an epoll set. A SafeHandle rather than
/// a bare int so that a thread reading or signalling through it and another thread disposing it can
/// never meet at a closed, reused descriptor number: the close waits for the last DangerousAddRef
/// to be released. Every native call in this layer takes one of these, or any other SafeHandle.
/// </summary>
public sealed class SafeFdHandle : SafeHandle
{
    public SafeFdHandle(int fd) : base(invalidHandleValue: -1, ownsHandle: true) => SetHandle(fd);

    public override bool IsInvalid => handle == -1;

    public int Fd => (int)handle;

    protected override bool ReleaseHandle() => Interop.Sys.Close((int)handle) == 0;
}
