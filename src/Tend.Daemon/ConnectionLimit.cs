using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Connections;

namespace Tend.Daemon;

/// <summary>
/// A cap on the connections one listener holds at once, in all and per peer (the user behind a
/// loopback connection, else the client address), as
/// Kestrel connection middleware: a connection over the cap is closed at once, before any
/// request is read. Each listener has its own, so that a local user holding thousands of
/// connections to the TCP port (anyone may connect to 127.0.0.1) can neither starve the control
/// socket nor run the daemon out of file descriptors: the TCP listener's whole budget is a small
/// slice of the daemon's fd limit, and the rest stays for instances, pipes, logs and state.
/// Slow clients are bounded by Kestrel's header and keep-alive timeouts (Program.cs).
/// </summary>
internal sealed class ConnectionLimit(string name, int total, int perPeer)
{
    /// <summary>Loopback connections open before the peer's user is looked up: below it a connection costs no /proc read.</summary>
    private const int LookupAbove = 8;

    private readonly ConcurrentDictionary<string, int> _byPeer = new(StringComparer.Ordinal);
    private int _open;
    private int _loopback;
    private long _refused;

    public string Name { get; } = name;
    public int Open => Volatile.Read(ref _open);
    public long Refused => Interlocked.Read(ref _refused);

    public ConnectionDelegate Wrap(ConnectionDelegate next) => async context =>
    {
        if (Interlocked.Increment(ref _open) > total)
        {
            Interlocked.Decrement(ref _open);
            Refuse(context);
            return;
        }
        string? peer = null;
        bool loopback = false;
        try
        {
            if (context.RemoteEndPoint is IPEndPoint remote)
            {
                loopback = IPAddress.IsLoopback(remote.Address);
                if (loopback && Interlocked.Increment(ref _loopback) > LookupAbove && context.LocalEndPoint is IPEndPoint local)
                {
                    // Every local user connects from 127.0.0.1, so on loopback the peer is the user
                    // that owns the client socket (LoopbackPeer): one user cannot take every slot.
                    peer = LoopbackPeer.OwnerOf(remote, local) is uint uid ? "uid " + uid : null;
                }
                else if (!loopback)
                {
                    peer = remote.Address.ToString();
                }
            }
            if (peer is not null && _byPeer.AddOrUpdate(peer, 1, (_, n) => n + 1) > perPeer)
            {
                Leave(peer);
                peer = null;
                Refuse(context);
                return;
            }
            await next(context).ConfigureAwait(false);
        }
        finally
        {
            if (peer is not null) Leave(peer);
            if (loopback) Interlocked.Decrement(ref _loopback);
            Interlocked.Decrement(ref _open);
        }
    };

    private void Refuse(ConnectionContext context)
    {
        Interlocked.Increment(ref _refused);
        context.Abort(new ConnectionAbortedException($"{Name}: too many connections"));
    }

    private void Leave(string peer)
    {
        // Drop the entry at zero so the table does not grow with every peer ever seen.
        if (_byPeer.AddOrUpdate(peer, 0, (_, n) => n - 1) <= 0) _byPeer.TryRemove(new KeyValuePair<string, int>(peer, 0));
    }
}
