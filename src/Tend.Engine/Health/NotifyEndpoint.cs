using System.Text;
using System.Text.Unicode;
using Microsoft.Extensions.Logging;
using Tend.Io;

namespace Tend.Health;

/// <summary>
/// One instance's notify socket, registered with a <see cref="NotifyHub"/>. Pass <see cref="Path"/> to the
/// instance as NOTIFY_SOCKET. The counters say what became of every datagram received so far.
/// </summary>
public sealed class NotifyEndpoint : IDisposable
{
    private readonly NotifyHub _hub;
    private readonly Func<int, bool> _trustSender;
    private readonly Action<NotifyMessage> _onMessage;
    private long _accepted, _malformed, _foreign;
    private int _disposed;

    internal NotifyEndpoint(NotifyHub hub, string name, string path, CredentialSocket socket,
        Func<int, bool> trustSender, Action<NotifyMessage> onMessage)
    {
        _hub = hub;
        Name = name;
        Path = path;
        Socket = socket;
        _trustSender = trustSender;
        _onMessage = onMessage;
    }

    /// <summary>The socket's absolute path: the value of NOTIFY_SOCKET.</summary>
    public string Path { get; }

    /// <summary>Datagrams from a trusted sender that parsed and were handed to the callback.</summary>
    public long Accepted => Interlocked.Read(ref _accepted);

    /// <summary>Datagrams from a trusted sender that were dropped: empty, over 4096 bytes, not UTF-8,
    /// containing NUL, or without a single KEY=VALUE line.</summary>
    public long Malformed => Interlocked.Read(ref _malformed);

    /// <summary>Datagrams dropped because the sender had no credentials or was not trusted.</summary>
    public long Foreign => Interlocked.Read(ref _foreign);

    /// <summary>The socket's place in the loop; set once, right after the socket is opened.</summary>
    internal EpollRegistration? Registration { get; set; }

    internal string Name { get; }

    internal CredentialSocket Socket { get; }

    /// <summary>Stops listening, closes the socket and removes its file. A callback already running on
    /// the loop thread is not waited for; no datagram is read after this returns.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _hub.Remove(this);
    }

    public override string ToString() => Path;

    /// <summary>On the loop thread: reads datagrams until the socket is empty (or <paramref name="max"/> of them).
    /// Level-triggered epoll brings us straight back to a socket that still has datagrams, so the cap only
    /// stops one app that sends in a tight loop from starving every other descriptor.</summary>
    internal void Drain(int max)
    {
        Span<byte> buffer = stackalloc byte[NotifyHub.MaxDatagram];
        for (int i = 0; i < max && Volatile.Read(ref _disposed) == 0; i++)
        {
            DatagramReceipt got = Socket.Receive(buffer);
            switch (got.Status)
            {
                case ReceiveStatus.Empty:
                    return;
                case ReceiveStatus.Failed:
                    if (Volatile.Read(ref _disposed) != 0) return;
                    // Nothing else is expected of a bound datagram socket. epoll is level-triggered: staying
                    // in the set would spin on the same error.
                    HealthLog.ReceiveFailed(_hub.Logger, Name, got.Error ?? "unknown error");
                    Registration?.Dispose();
                    return;
                default:
                    Handle(got.SenderPid, buffer[..got.Length], got.Truncated);
                    break;
            }
        }
    }

    private void Handle(int pid, ReadOnlySpan<byte> payload, bool truncated)
    {
        if (pid <= 0 || !Trusts(pid))
        {
            long foreign = Interlocked.Increment(ref _foreign);
            HealthLog.ForeignSender(_hub.Logger, foreign == 1 ? LogLevel.Information : LogLevel.Debug, Name, pid, foreign);
            return;
        }

        if (Parse(payload, truncated, out string? reason) is not { } fields)
        {
            long malformed = Interlocked.Increment(ref _malformed);
            HealthLog.MalformedDatagram(_hub.Logger, malformed == 1 ? LogLevel.Information : LogLevel.Debug, Name, pid, reason!, malformed);
            return;
        }

        if (Volatile.Read(ref _disposed) != 0) return;
        Interlocked.Increment(ref _accepted);
        try
        {
            _onMessage(new NotifyMessage(pid, fields));
        }
        catch (Exception e)
        {
            HealthLog.HandlerFailed(_hub.Logger, e, Name, pid);
        }
    }

    private bool Trusts(int pid)
    {
        try
        {
            return _trustSender(pid);
        }
        catch (Exception e)
        {
            HealthLog.HandlerFailed(_hub.Logger, e, Name, pid);
            return false;
        }
    }

    /// <summary>The KEY=VALUE assignments of an sd_notify payload, or null (and why) if it is malformed.</summary>
    internal static List<KeyValuePair<string, string>>? Parse(ReadOnlySpan<byte> payload, bool truncated, out string? reason)
    {
        reason = truncated ? $"longer than {NotifyHub.MaxDatagram} bytes"
            : payload.IsEmpty ? "empty"
            : payload.Contains((byte)0) ? "contains a NUL byte"
            : !Utf8.IsValid(payload) ? "not valid UTF-8"
            : null;
        if (reason is not null) return null;

        var fields = new List<KeyValuePair<string, string>>();
        foreach (string line in Encoding.UTF8.GetString(payload).Split('\n'))
        {
            int equals = line.IndexOf('=');
            if (equals <= 0 || !IsKey(line.AsSpan(0, equals))) continue;
            fields.Add(new(line[..equals], line[(equals + 1)..]));
        }
        if (fields.Count > 0) return fields;
        reason = "no KEY=VALUE line";
        return null;
    }

    private static bool IsKey(ReadOnlySpan<char> key)
    {
        foreach (char c in key)
        {
            if (c is not ((>= 'A' and <= 'Z') or (>= '0' and <= '9') or '_')) return false;
        }
        return true;
    }
}
