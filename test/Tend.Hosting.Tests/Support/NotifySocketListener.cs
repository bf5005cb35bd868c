using System.Net.Sockets;
using System.Text;
using Tend.Tests.Support;

namespace Tend.Hosting.Tests.Support;

/// <summary>
/// The manager's end of NOTIFY_SOCKET: a real unix datagram socket bound in a fresh short
/// directory under /tmp (sun_path holds 108 bytes), or in the abstract namespace.
/// </summary>
public sealed class NotifySocketListener : IDisposable
{
    private readonly Socket _socket;
    private readonly string? _directory;
    private readonly string? _file;

    private NotifySocketListener(Socket socket, string address, string? directory = null, string? file = null)
    {
        _socket = socket;
        Address = address;
        _directory = directory;
        _file = file;
    }

    /// <summary>What to put in NOTIFY_SOCKET.</summary>
    public string Address { get; }

    public static NotifySocketListener BindPath()
    {
        var directory = Path.Combine("/tmp", "tend-h-" + Guid.NewGuid().ToString("N")[..10]);
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, "notify.sock");
        return new NotifySocketListener(Bind(path), path, directory);
    }

    /// <summary>Binds at a given path (a manager coming back at its old address); removes the socket file on dispose.</summary>
    public static NotifySocketListener BindAt(string path) => new(Bind(path), path, file: path);

    public static NotifySocketListener BindAbstract()
    {
        var name = "tend-hosting-test-" + Guid.NewGuid().ToString("N");
        return new NotifySocketListener(Bind("\0" + name), "@" + name);
    }

    private static Socket Bind(string address)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        socket.Bind(new UnixDomainSocketEndPoint(address));
        return socket;
    }

    /// <summary>Datagrams queued now, without waiting (a send to a unix socket is queued before it returns).</summary>
    public List<string> Drain()
    {
        var messages = new List<string>();
        var buffer = new byte[4096];
        while (_socket.Available > 0)
        {
            var n = _socket.Receive(buffer);
            messages.Add(Encoding.UTF8.GetString(buffer, 0, n));
        }
        return messages;
    }

    /// <summary>The next datagram, failing the test if none comes within the deadline.</summary>
    public async Task<string> ReceiveAsync(TimeSpan? timeout = null)
    {
        var buffer = new byte[4096];
        using var cts = new CancellationTokenSource(timeout ?? Eventually.DefaultTimeout);
        try
        {
            var n = await _socket.ReceiveAsync(buffer, SocketFlags.None, cts.Token);
            return Encoding.UTF8.GetString(buffer, 0, n);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException("no datagram arrived on the notify socket");
        }
    }

    public void Dispose()
    {
        _socket.Dispose();
        if (_file is not null) File.Delete(_file);
        if (_directory is not null) Directory.Delete(_directory, recursive: true);
    }
}
