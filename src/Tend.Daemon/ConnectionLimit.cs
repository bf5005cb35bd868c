using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Connections;

namespace Tend.Daemon;

/// <summary>
/// A cap on the connections one listener holds at once, in all and per client address, as
/// Kestrel connection middleware: a connection over the cap is closed at once, before any
/// request is read. Each listener has its own, so that a local user holding thousands of
/// connections to the TCP port (anyone may connect to 127.0.0.1) can neither starve the control
/// socket nor run the daemon out of file descriptors: the TCP listener's whole budget is a small
/// slice of the daemon's fd limit, and the rest stays for instances, pipes, logs and state.
/// Slow clients are bounded by Kestrel's header and keep-alive timeouts (Program.cs).
/// </summary>
internal sealed class ConnectionLimit(string name, int total, int perAddress)
{
    private readonly ConcurrentDictionary<IPAddress, int> _byAddress = new();
    private int _open;
    private long _refused;

    public string Name { get; } = name;
    public int Open => Volatile.Read(ref _open);
    public long Refused => Interlocked.Read(ref _refused);

    public ConnectionDelegate Wrap(ConnectionDelegate next) => async context =>
    {
        IPAddress? address = (context.RemoteEndPoint as IPEndPoint)?.Address;
        if (!TryEnter(address))
        {
            Interlocked.Increment(ref _refused);
            context.Abort(new ConnectionAbortedException($"{Name}: too many connections"));
            return;
        }
        try { await next(context).ConfigureAwait(false); }
        finally { Exit(address); }
    };

    private bool TryEnter(IPAddress? address)
    {
        if (Interlocked.Increment(ref _open) > total)
        {
            Interlocked.Decrement(ref _open);
            return false;
        }
        if (address is null) return true;
        int mine = _byAddress.AddOrUpdate(address, 1, (_, n) => n + 1);
        if (mine <= perAddress) return true;
        Exit(address);
        return false;
    }

    private void Exit(IPAddress? address)
    {
        Interlocked.Decrement(ref _open);
        if (address is null) return;
        // Drop the entry at zero so the table does not grow with every address ever seen.
        if (_byAddress.AddOrUpdate(address, 0, (_, n) => n - 1) <= 0) _byAddress.TryRemove(new KeyValuePair<IPAddress, int>(address, 0));
    }
}
