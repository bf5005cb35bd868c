using System.Collections.Concurrent;
using System.Runtime.InteropServices;

namespace Tend.Io;

/// <summary>
/// One thread, one epoll set: the daemon's single place that waits for descriptors to become
/// readable. Child exits (pidfds), notify datagrams and the output pipes of every instance are all
/// registered here, so a daemon with a hundred instances waits on one thread, not on two hundred.
/// </summary>
/// <remarks>
/// <para>Callbacks run on the loop thread, one at a time, and must be quick: a pidfd callback
/// completes a task, a notify callback reads a few datagrams. Work that may block (writing a log
/// file) registers <see cref="EpollMode.OneShot"/> and hands itself to the thread pool; it calls
/// <see cref="EpollRegistration.Rearm"/> when it has drained the descriptor, so no descriptor is
/// ever served by two threads at once.</para>
/// <para>epoll_ctl may be called from any thread while the loop sits in epoll_wait, and a descriptor
/// added that way (even one that is already readable) wakes it, so registering needs no wake-up
/// channel. Events carry a sequence number, never the descriptor, so a descriptor number recycled
/// after close can never be confused with an old registration. An owner disposes its registration
/// (EPOLL_CTL_DEL) before it closes the descriptor.</para>
/// </remarks>
public sealed class EpollLoop : IDisposable
{
    private const int MaxEvents = 64;
    private const ulong WakeId = 0;

    private static readonly Lazy<EpollLoop> s_shared = new(() => new EpollLoop("Tend io"), LazyThreadSafetyMode.ExecutionAndPublication);

    private readonly SafeFdHandle _epoll;
    private readonly SafeFdHandle _wakeRead;
    private readonly SafeFdHandle _wakeWrite;
    private readonly ConcurrentDictionary<ulong, EpollRegistration> _registrations = new();
    private readonly Thread _thread;
    private ulong _nextId;
    private int _disposed;

    /// <summary>The process's loop, started on first use and never stopped.</summary>
    public static EpollLoop Shared => s_shared.Value;

    /// <summary>Creates the epoll set and starts its thread.</summary>
    /// <exception cref="IOException">epoll_create1 or pipe2 failed (descriptors or memory exhausted).</exception>
    public unsafe EpollLoop(string name)
    {
        int epoll = Interop.Sys.EpollCreate1(Interop.Sys.EPOLL_CLOEXEC);
        if (epoll < 0) throw Interop.Sys.GetIOException(Marshal.GetLastPInvokeError(), "epoll_create1");
        _epoll = new SafeFdHandle(epoll);

        int* pipe = stackalloc int[2];
        if (Interop.Sys.Pipe2(pipe, Interop.Sys.O_CLOEXEC | Interop.Sys.O_NONBLOCK) != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            _epoll.Dispose();
            throw Interop.Sys.GetIOException(errno, "pipe2");
        }
        _wakeRead = new SafeFdHandle(pipe[0]);
        _wakeWrite = new SafeFdHandle(pipe[1]);
        int error = Control(Interop.Sys.EPOLL_CTL_ADD, _wakeRead, Interop.Sys.EPOLLIN, WakeId);
        if (error != 0)
        {
            _wakeRead.Dispose();
            _wakeWrite.Dispose();
            _epoll.Dispose();
            throw Interop.Sys.GetIOException(error, "epoll_ctl");
        }
        _thread = new Thread(Run) { IsBackground = true, Name = name };
        _thread.Start();
    }

    /// <summary>True when called from this loop's thread (inside a callback).</summary>
    public bool IsLoopThread => Thread.CurrentThread == _thread;

    /// <summary>
    /// Calls <paramref name="onReady"/> on the loop thread whenever <paramref name="fd"/> is readable
    /// (or hung up, or in error), until the registration is disposed. With
    /// <see cref="EpollMode.OneShot"/>, once per <see cref="EpollRegistration.Rearm"/>.
    /// </summary>
    /// <exception cref="IOException">epoll_ctl failed (the errno says why); nothing is registered.</exception>
    public EpollRegistration Watch(SafeHandle fd, EpollMode mode, Action<EpollRegistration> onReady) =>
        Add(fd, EpollRegistration.LevelEvents(mode), onReady);

    /// <summary>
    /// Calls <paramref name="onReady"/> on the loop thread while <paramref name="fd"/> is in a state
    /// <paramref name="interest"/> names (level-triggered; with <see cref="EpollInterest.OneShot"/>,
    /// once), and whenever it has an error or is hung up, until the registration is disposed.
    /// <see cref="EpollRegistration.Ready"/> says what it found, during the callback;
    /// <see cref="EpollRegistration.SetInterest"/> changes what is watched. For non-blocking sockets
    /// (<see cref="SocketRelay"/>, <see cref="SocketConnect"/>).
    /// </summary>
    /// <exception cref="IOException">epoll_ctl failed (the errno says why); nothing is registered.</exception>
    public EpollRegistration WatchSocket(SafeHandle fd, EpollInterest interest, Action<EpollRegistration> onReady) =>
        Add(fd, SocketEvents(interest), onReady);

    private EpollRegistration Add(SafeHandle fd, uint events, Action<EpollRegistration> onReady)
    {
        ArgumentNullException.ThrowIfNull(fd);
        ArgumentNullException.ThrowIfNull(onReady);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        ulong id = Interlocked.Increment(ref _nextId);
        var registration = new EpollRegistration(this, id, fd, events, onReady);
        _registrations[id] = registration;
        int error = Control(Interop.Sys.EPOLL_CTL_ADD, fd, registration.Events, id);
        if (error != 0)
        {
            _registrations.TryRemove(id, out _);
            throw Interop.Sys.GetIOException(error, "epoll_ctl");
        }
        return registration;
    }

    // Readable includes the peer's end of stream (EPOLLRDHUP), which a reader must see as readable.
    internal static uint SocketEvents(EpollInterest interest) =>
        (uint)interest | ((interest & EpollInterest.Readable) != 0 ? Interop.Sys.EPOLLRDHUP : 0);

    internal int Rearm(EpollRegistration registration) =>
        Control(Interop.Sys.EPOLL_CTL_MOD, registration.Descriptor, registration.Events, registration.Id);

    internal void Remove(EpollRegistration registration)
    {
        if (!_registrations.TryRemove(registration.Id, out _)) return;
        // A descriptor already closed has left the set by itself; ENOENT/EBADF change nothing.
        _ = Control(Interop.Sys.EPOLL_CTL_DEL, registration.Descriptor, 0, registration.Id);
    }

    /// <summary>0, or the errno of the failed epoll_ctl. A closed descriptor (or loop) is EBADF.</summary>
    private unsafe int Control(int op, SafeHandle fd, uint events, ulong id)
    {
        byte* ev = stackalloc byte[16];
        *(uint*)ev = events;
        *(ulong*)(ev + Interop.Sys.EpollEventDataOffset) = id;
        try
        {
            return Interop.Sys.EpollCtl(_epoll, op, fd, op == Interop.Sys.EPOLL_CTL_DEL ? null : ev) == 0
                ? 0 : Marshal.GetLastPInvokeError();
        }
        catch (ObjectDisposedException)
        {
            return Interop.Sys.EBADF;
        }
    }

    /// <summary>Stops the thread once the callback in progress (if any) returns. Registrations are
    /// forgotten; their owners still close their own descriptors.</summary>
    public unsafe void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        byte one = 1;
        _ = Interop.Sys.Write(_wakeWrite, &one, 1);
        if (!IsLoopThread) _thread.Join();
    }

    private unsafe void Run()
    {
        int size = Interop.Sys.EpollEventSize;
        byte* events = stackalloc byte[MaxEvents * 16];
        try
        {
            while (true)
            {
                int n = Interop.Sys.EpollWait(_epoll, events, MaxEvents, -1);
                if (n < 0)
                {
                    int errno = Marshal.GetLastPInvokeError();
                    if (errno == Interop.Sys.EINTR) continue;
                    // Only EBADF/EFAULT/EINVAL are possible, all programming errors; without this
                    // thread no child would ever be seen to exit, so failing loudly is the only option.
                    Environment.FailFast($"epoll_wait failed: {Interop.Sys.StrError(errno)}");
                }
                for (int i = 0; i < n; i++)
                {
                    uint ready = *(uint*)(events + (i * size));
                    ulong id = *(ulong*)(events + (i * size) + Interop.Sys.EpollEventDataOffset);
                    if (id == WakeId) return;
                    if (_registrations.TryGetValue(id, out var registration)) registration.Fire(ready);
                }
            }
        }
        finally
        {
            _registrations.Clear();
            _wakeRead.Dispose();
            _wakeWrite.Dispose();
            _epoll.Dispose();
        }
    }
}

/// <summary>How a registration fires: every time the descriptor is readable (level-triggered), or
/// once until it is re-armed.</summary>
public enum EpollMode
{
    Level,
    OneShot,
}

/// <summary>What a socket registration watches for (epoll's own bits).</summary>
[Flags]
public enum EpollInterest : uint
{
    None = 0,
    Readable = 0x001,
    Writable = 0x004,
    /// <summary>Report once, then nothing until <see cref="EpollRegistration.SetInterest"/>.</summary>
    OneShot = 1u << 30,
}

/// <summary>The readiness an <see cref="EpollLoop"/> reported for a descriptor (epoll's own bits).</summary>
[Flags]
public enum EpollReady : uint
{
    None = 0,
    Readable = 0x001,
    Writable = 0x004,
    Error = 0x008,
    HangUp = 0x010,
    PeerClosedWriting = 0x2000,
}

/// <summary>One descriptor watched by an <see cref="EpollLoop"/>. Dispose it before closing the descriptor.</summary>
public sealed class EpollRegistration : IDisposable
{
    private readonly EpollLoop _loop;
    private readonly Action<EpollRegistration> _onReady;

    internal static uint LevelEvents(EpollMode mode) =>
        Interop.Sys.EPOLLIN | (mode == EpollMode.OneShot ? Interop.Sys.EPOLLONESHOT : 0);

    internal EpollRegistration(EpollLoop loop, ulong id, SafeHandle descriptor, uint events, Action<EpollRegistration> onReady)
    {
        _loop = loop;
        Id = id;
        Descriptor = descriptor;
        _onReady = onReady;
        Events = events;
    }

    internal ulong Id { get; }
    internal SafeHandle Descriptor { get; }
    internal uint Events { get; private set; }

    /// <summary>
    /// For a <see cref="EpollLoop.WatchSocket"/> registration: what to watch from now on (errors and
    /// hang-ups are always reported). 0, or the errno of epoll_ctl.
    /// </summary>
    public int SetInterest(EpollInterest interest)
    {
        uint events = EpollLoop.SocketEvents(interest);
        if (events == Events) return 0;
        Events = events;
        return _loop.Rearm(this);
    }


    /// <summary>Arms a one-shot registration again. 0, or the errno of epoll_ctl (EBADF once closed).</summary>
    public int Rearm() => _loop.Rearm(this);

    public void Dispose() => _loop.Remove(this);

    /// <summary>What the descriptor was found to be, for the callback in progress.</summary>
    public EpollReady Ready { get; private set; }

    internal void Fire(uint events)
    {
        Ready = (EpollReady)(events & (Interop.Sys.EPOLLIN | Interop.Sys.EPOLLOUT | Interop.Sys.EPOLLERR | Interop.Sys.EPOLLHUP | Interop.Sys.EPOLLRDHUP));
        _onReady(this);
    }
}
