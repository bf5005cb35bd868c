using System.Net.Sockets;

namespace Tend.Health;

/// <summary>Connect to host:port; a connection accepted within the timeout passes. It is closed at once.</summary>
public sealed class TcpProbe : IProbe
{
    private readonly string _host;
    private readonly int _port;
    private readonly TimeSpan _timeout;
    private readonly TimeProvider _time;

    /// <param name="target">"host:port", "127.0.0.1:5432", "[::1]:8080"; ":8080" means localhost.</param>
    public TcpProbe(string target, TimeSpan timeout, TimeProvider? time = null)
    {
        (_host, _port) = ParseTarget(target);
        _timeout = timeout;
        _time = time ?? TimeProvider.System;
    }

    public async Task<ProbeResult> CheckAsync(CancellationToken ct)
    {
        long started = _time.GetTimestamp();
        using var deadline = new CancellationTokenSource(_timeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, deadline.Token);
        // A dual-mode socket (IPv6 with IPv4-mapped addresses where the system has IPv6), so a name
        // that resolves to both families is tried on both.
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        try
        {
            await socket.ConnectAsync(_host, _port, linked.Token).ConfigureAwait(false);
            return new ProbeResult(true, _time.GetElapsedTime(started), "connected");
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return ProbeText.TimedOut(_timeout, _time.GetElapsedTime(started));
        }
        catch (SocketException e)
        {
            return new ProbeResult(false, _time.GetElapsedTime(started), ProbeText.Describe(e));
        }
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    public override string ToString() => $"tcp {_host}:{_port}";

    internal static (string Host, int Port) ParseTarget(string target)
    {
        ArgumentNullException.ThrowIfNull(target);
        string host;
        string port;
        if (target.StartsWith('['))
        {
            int close = target.IndexOf("]:", StringComparison.Ordinal);
            if (close < 0) throw Invalid(target);
            host = target[1..close];
            port = target[(close + 2)..];
        }
        else
        {
            int colon = target.LastIndexOf(':');
            // More than one colon without brackets is a bare IPv6 address: the port cannot be told apart.
            if (colon < 0 || target.IndexOf(':') != colon) throw Invalid(target);
            host = target[..colon];
            port = target[(colon + 1)..];
        }
        if (host.Length == 0) host = "localhost";
        if (!int.TryParse(port, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int number)
            || number is < 1 or > 65535)
        {
            throw Invalid(target);
        }
        return (host, number);
    }

    private static ArgumentException Invalid(string target) =>
        new($"'{target}' is not host:port (write an IPv6 address as [::1]:port)", nameof(target));
}
