using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Tend.Config;
using Tend.Processes;

namespace Tend.Cluster;

/// <summary>
/// A listening socket the daemon opens once for an app and hands to every instance by socket
/// activation (<see cref="SpawnRequest.ListenFds"/>). It outlives the instances: while one restarts,
/// connections wait in the backlog instead of being refused, and the others keep accepting.
/// </summary>
/// <remarks>
/// The daemon never accepts on it. Its descriptor is close-on-exec here (.NET creates sockets with
/// SOCK_CLOEXEC), so only the spawns that ask for it get a copy. The blocking mode is left alone: all
/// copies share one open file description, and each server sets O_NONBLOCK the way it wants.
/// </remarks>
public sealed class ListenSocket : IDisposable
{
    /// <summary>The backlog nginx and Node use; the kernel caps it at net.core.somaxconn.</summary>
    public const int Backlog = 511;

    private readonly Socket _socket;

    private ListenSocket(Socket socket, ListenAddress address, string name)
    {
        _socket = socket;
        Address = address;
        Name = name;
        LocalEndPoint = socket.LocalEndPoint ?? throw new InvalidOperationException("a bound socket has no local address");
    }

    /// <summary>The address as configured (port 0 stays 0 here; see <see cref="Port"/>).</summary>
    public ListenAddress Address { get; }

    /// <summary>The LISTEN_FDNAMES entry.</summary>
    public string Name { get; }

    /// <summary>The address actually bound.</summary>
    public EndPoint LocalEndPoint { get; }

    /// <summary>The TCP port actually bound (the kernel's choice for port 0); 0 for a unix socket.</summary>
    public int Port => LocalEndPoint is IPEndPoint ip ? ip.Port : 0;

    /// <summary>The descriptor. Owned by this object: do not close it.</summary>
    public SafeHandle Handle => _socket.SafeHandle;

    /// <summary>This socket as an entry of <see cref="SpawnRequest.ListenFds"/>.</summary>
    public ListenFd ToListenFd() => new(Handle, Name);

    /// <summary>Parses <paramref name="address"/> (see <see cref="ListenAddress"/>) and opens it.</summary>
    /// <exception cref="FormatException">The address is not one of the accepted forms.</exception>
    /// <exception cref="ListenException">The socket could not be bound or put in listening state.</exception>
    public static ListenSocket Open(string address, string name) => Open(ListenAddress.Parse(address), name);

    /// <summary>Binds and listens (SO_REUSEADDR, backlog <see cref="Backlog"/>).</summary>
    /// <param name="name">The LISTEN_FDNAMES entry: 1–255 characters, no ':' (systemd's rule).</param>
    /// <exception cref="ListenException">The socket could not be bound or put in listening state.</exception>
    public static ListenSocket Open(ListenAddress address, string name)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (!ListenFd.IsValidName(name))
            throw new ArgumentException($"'{name}' is not a valid socket name (1-255 characters, no ':')", nameof(name));

        return address switch
        {
            { Kind: ListenKind.Unix } => OpenUnix(address, name),
            { Host: null } => OpenAnyAddress(address, name),
            _ => OpenTcp(address, name, address.Host, dualStack: false),
        };
    }

    /// <summary>
    /// A listening socket the previous daemon bound and handed over (docs/upgrade.md): the same socket the
    /// running instances accept on, so not one connection is refused across the hand-over. Takes the handle.
    /// </summary>
    public static ListenSocket Adopt(SafeHandle handle, ListenAddress address, string name) => new(AdoptSocket(handle), address, name);

    /// <summary>A handed-over descriptor as a <see cref="Socket"/>, which owns it from now on.</summary>
    internal static Socket AdoptSocket(SafeHandle handle)
    {
        var socket = new Socket(new SafeSocketHandle(handle.DangerousGetHandle(), ownsHandle: true));
        handle.SetHandleAsInvalid();
        return socket;
    }

    public void Dispose() => _socket.Dispose();

    public override string ToString() => $"{Name} on {Address}";

    private static ListenSocket OpenAnyAddress(ListenAddress address, string name)
    {
        try
        {
            return OpenTcp(address, name, IPAddress.IPv6Any, dualStack: true);
        }
        catch (ListenException e) when (e.SocketError is SocketError.AddressFamilyNotSupported or SocketError.AddressNotAvailable
            or SocketError.ProtocolNotSupported)
        {
            // No IPv6 on this machine (ipv6.disable=1, or a container without it).
            return OpenTcp(address, name, IPAddress.Any, dualStack: false);
        }
    }

    private static ListenSocket OpenTcp(ListenAddress address, string name, IPAddress host, bool dualStack)
    {
        Socket? socket = null;
        try
        {
            socket = new Socket(host.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            if (dualStack) socket.DualMode = true;
            // Not Socket.ReuseAddress: on Linux .NET also sets SO_REUSEPORT with it, which would let
            // a second daemon bind the same port and quietly take half the connections.
            if (Tend.Io.SocketOptions.SetReuseAddress(socket.SafeHandle) is string reuseError)
                throw new ListenException(address, SocketError.SocketError, "setsockopt(SO_REUSEADDR): " + reuseError, null);
            socket.Bind(new IPEndPoint(host, address.Port));
            socket.Listen(Backlog);
            return new ListenSocket(socket, address, name);
        }
        catch (SocketException e)
        {
            socket?.Dispose();
            throw new ListenException(address, e.SocketErrorCode, e.Message, e);
        }
        catch
        {
            socket?.Dispose();
            throw;
        }
    }

    private static ListenSocket OpenUnix(ListenAddress address, string name)
    {
        string path = address.Path!;
        RemoveStaleSocketFile(address);
        Socket? socket = null;
        try
        {
            socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            socket.Bind(new UnixDomainSocketEndPoint(path));
            socket.Listen(Backlog);
            return new ListenSocket(socket, address, name);
        }
        catch (SocketException e)
        {
            socket?.Dispose();
            throw new ListenException(address, e.SocketErrorCode, e.Message, e);
        }
    }

    /// <summary>
    /// A unix socket file stays behind when its owner dies without closing it (.NET removes the file
    /// on dispose, a killed daemon does not), and bind() then fails with "address in use". A
    /// socket file nobody accepts on is stale and removed; one that answers belongs to a live server
    /// and is left alone; anything that is not a socket is never deleted.
    /// </summary>
    private static void RemoveStaleSocketFile(ListenAddress address)
    {
        string path = address.Path!;
        if (!FileStatus.TryOf(path, followLinks: false, out FileStatus status))
            return; // not there (or not reachable: bind will say why)
        if (!status.IsSocket)
            throw new ListenException(address, SocketError.AddressAlreadyInUse, "the path exists and is not a socket", null);

        using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            probe.Connect(new UnixDomainSocketEndPoint(path));
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionRefused)
        {
            File.Delete(path);
            return;
        }
        catch (SocketException)
        {
            return; // let bind report it
        }
        throw new ListenException(address, SocketError.AddressAlreadyInUse, "another process is listening on it", null);
    }
}

/// <summary>A listening socket could not be opened.</summary>
public sealed class ListenException : Exception
{
    public ListenException(ListenAddress address, SocketError socketError, string reason, Exception? inner)
        : base($"cannot listen on {address}: {reason}", inner)
    {
        Address = address;
        SocketError = socketError;
    }

    public ListenAddress Address { get; }

    public SocketError SocketError { get; }
}
