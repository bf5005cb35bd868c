using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Tend.Io;

/// <summary>
/// Relays bytes both ways between two connected stream sockets inside the kernel: splice(2) from
/// one socket into a pipe, then from the pipe into the other socket, one pipe per direction. No
/// buffer in user space and no task or thread per connection: the relays of a process share one
/// <see cref="EpollLoop"/>, whose thread moves every connection's bytes as the sockets become
/// readable and writable.
/// </summary>
/// <remarks>
/// End of stream from one side is passed on as shutdown(SHUT_WR) to the other once everything
/// before it was delivered (a half-close: the other direction goes on). Both directions ended that
/// way is a clean end. An error on either side (a reset, a write to a closed peer), or cancellation,
/// ends the relay at once as unclean, and the owner closes both sockets with RST, so that a
/// truncated stream is never mistaken for a complete one. The relay never closes the sockets.
/// </remarks>
public sealed class SocketRelay
{
    // A pipe holds 64 KiB by default: one splice fills it, the next one empties it into the socket.
    private const int Chunk = 64 * 1024;
    private const uint Flags = Interop.Sys.SPLICE_F_MOVE | Interop.Sys.SPLICE_F_NONBLOCK;

    private readonly Lock _gate = new();
    private readonly Socket _a;
    private readonly Socket _b;
    private readonly Direction _aToB;
    private readonly Direction _bToA;
    private readonly TaskCompletionSource<bool> _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private EpollRegistration? _watchA;
    private EpollRegistration? _watchB;
    private CancellationTokenRegistration _cancel;
    private bool _finished;
    // Hung up: shut both ways. epoll reports that on every wait whatever the interest, so such a socket
    // is switched off (one-shot, nothing armed) and what is left in it is read as the other side takes it.
    private bool _aHungUp, _bHungUp;

    private SocketRelay(Socket a, Socket b)
    {
        _a = a;
        _b = b;
        _aToB = Direction.Create();
        try
        {
            _bToA = Direction.Create();
        }
        catch
        {
            _aToB.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Relays until both directions ended cleanly (true) or one failed or <paramref name="ct"/> was
    /// cancelled (false). Puts both sockets in non-blocking mode. The task completes off the loop thread.
    /// </summary>
    /// <exception cref="IOException">No pipe could be made (descriptors exhausted); nothing was relayed.</exception>
    public static Task<bool> RunAsync(EpollLoop loop, Socket a, Socket b, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(loop);
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        a.Blocking = false;
        b.Blocking = false;
        var relay = new SocketRelay(a, b);
        relay.Start(loop, ct);
        return relay._done.Task;
    }

    private void Start(EpollLoop loop, CancellationToken ct)
    {
        // Held while registering: a socket that is already readable fires at once, on the loop thread,
        // and that callback must see both registrations in place.
        lock (_gate)
        {
            try
            {
                _watchA = loop.WatchSocket(_a.SafeHandle, EpollInterest.Readable, registration => OnReady(registration, fromA: true));
                _watchB = loop.WatchSocket(_b.SafeHandle, EpollInterest.Readable, registration => OnReady(registration, fromA: false));
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException)
            {
                Finish(clean: false);
                return;
            }
        }
        _cancel = ct.UnsafeRegister(static state => ((SocketRelay)state!).Cancel(), this);
    }

    private void Cancel()
    {
        lock (_gate)
        {
            if (!_finished) Finish(clean: false);
        }
    }

    // Level-triggered, one splice into a pipe per readiness: what it leaves in the socket is reported
    // again by the next epoll_wait, so no splice is spent finding EAGAIN. A socket is watched for
    // reading only while its outgoing pipe is empty (else the bytes wait for the other side and the
    // loop would spin on a readable socket), and for writing only while bytes toward it wait.
    private void OnReady(EpollRegistration registration, bool fromA)
    {
        lock (_gate)
        {
            if (_finished) return;
            EpollReady ready = registration.Ready;
            Socket x = fromA ? _a : _b, y = fromA ? _b : _a;
            Direction outOfX = fromA ? _aToB : _bToA, intoX = fromA ? _bToA : _aToB;

            bool ok = (ready & EpollReady.Error) == 0; // a pending error: reset, refused, unreachable
            if (ok && (ready & (EpollReady.Readable | EpollReady.PeerClosedWriting | EpollReady.HangUp)) != 0 && outOfX.CanRead)
                ok = outOfX.Fill(x.SafeHandle) && outOfX.Flush(y.SafeHandle);
            if (ok && (ready & (EpollReady.Writable | EpollReady.HangUp)) != 0)
                ok = intoX.Flush(x.SafeHandle);
            if (ok && (ready & EpollReady.HangUp) != 0)
            {
                // Hung up (both ways shut, or reset) while bytes toward it may still come: they cannot be delivered.
                if (!intoX.Ended) ok = false;
                else if (fromA) _aHungUp = true;
                else _bHungUp = true;
            }
            ok = ok && DrainHungUp(_aToB, _a, _b, _aHungUp) && DrainHungUp(_bToA, _b, _a, _bHungUp);

            if (!ok) Finish(clean: false);
            else if (_aToB.Ended && _bToA.Ended) Finish(clean: true);
            else ok = Watch(_watchA!, _aToB, _bToA, _aHungUp) && Watch(_watchB!, _bToA, _aToB, _bHungUp);
            if (!ok && !_finished) Finish(clean: false);
        }
    }

    /// <summary>A hung-up source needs no event to be read: move what it still holds while the other side takes it.</summary>
    private static bool DrainHungUp(Direction d, Socket from, Socket to, bool hungUp)
    {
        while (hungUp && d.CanRead)
        {
            if (!d.Fill(from.SafeHandle)) return false;
            if (d.InPipe == 0 && !d.SourceEnded) return true; // nothing there after all (EAGAIN)
            if (!d.Flush(to.SafeHandle)) return false;
        }
        return true;
    }

    private static bool Watch(EpollRegistration registration, Direction outgoing, Direction incoming, bool hungUp)
    {
        EpollInterest interest = hungUp
            ? EpollInterest.OneShot
            : (outgoing.CanRead ? EpollInterest.Readable : EpollInterest.None) | (incoming.InPipe > 0 ? EpollInterest.Writable : EpollInterest.None);
        return registration.SetInterest(interest) == 0;
    }

    /// <summary>Under _gate, once.</summary>
    private void Finish(bool clean)
    {
        _finished = true;
        _watchA?.Dispose();
        _watchB?.Dispose();
        // Unregister, not Dispose: Dispose would wait for a Cancel that is blocked on _gate.
        _cancel.Unregister();
        _aToB.Dispose();
        _bToA.Dispose();
        _done.TrySetResult(clean);
    }

    /// <summary>One direction: its pipe and how far it got.</summary>
    private sealed class Direction : IDisposable
    {
        private Direction(SafeFdHandle read, SafeFdHandle write)
        {
            Read = read;
            Write = write;
        }

        public SafeFdHandle Read { get; }
        public SafeFdHandle Write { get; }

        /// <summary>Bytes spliced into the pipe and not yet out of it.</summary>
        public int InPipe { get; set; }

        /// <summary>The source said end of stream.</summary>
        public bool SourceEnded { get; set; }

        /// <summary>The end was passed on: nothing more moves this way.</summary>
        public bool Ended { get; set; }

        /// <summary>The pipe is empty and the source has not ended: the source may be read.</summary>
        public bool CanRead => InPipe == 0 && !SourceEnded;

        /// <summary>One splice from the socket into the empty pipe. False on a socket error.</summary>
        public unsafe bool Fill(SafeHandle from)
        {
            while (true)
            {
                nint read = Interop.Sys.Splice(from, null, Write, null, Chunk, Flags);
                if (read > 0)
                {
                    InPipe = (int)read;
                    return true;
                }
                if (read == 0)
                {
                    SourceEnded = true;
                    return true;
                }
                int errno = Marshal.GetLastPInvokeError();
                if (errno == Interop.Sys.EINTR) continue;
                return errno == Interop.Sys.EAGAIN; // EAGAIN: nothing after all; anything else: an error
            }
        }

        /// <summary>
        /// Empties the pipe into the socket as far as it takes it, then passes the source's end on with
        /// shutdown(SHUT_WR) once everything before it is out. False on a socket error.
        /// </summary>
        public unsafe bool Flush(SafeHandle to)
        {
            while (InPipe > 0)
            {
                nint moved = Interop.Sys.Splice(Read, null, to, null, (nuint)InPipe, Flags);
                if (moved > 0)
                {
                    InPipe -= (int)moved;
                    continue;
                }
                int errno = Marshal.GetLastPInvokeError();
                if (moved < 0 && errno == Interop.Sys.EINTR) continue;
                return moved < 0 && errno == Interop.Sys.EAGAIN; // EAGAIN: full, wait to be writable; EPIPE, ECONNRESET: gone
            }
            if (SourceEnded && !Ended)
            {
                // ENOTCONN: the peer is already gone, which its own events report if it matters.
                if (Interop.Sys.Shutdown(to, Interop.Sys.SHUT_WR) != 0 && Marshal.GetLastPInvokeError() != Interop.Sys.ENOTCONN) return false;
                Ended = true;
            }
            return true;
        }

        public static unsafe Direction Create()
        {
            int* fds = stackalloc int[2];
            if (Interop.Sys.Pipe2(fds, Interop.Sys.O_CLOEXEC | Interop.Sys.O_NONBLOCK) != 0)
                throw Interop.Sys.GetIOException(Marshal.GetLastPInvokeError(), "pipe2");
            return new Direction(new SafeFdHandle(fds[0]), new SafeFdHandle(fds[1]));
        }

        public void Dispose()
        {
            Read.Dispose();
            Write.Dispose();
        }
    }
}
