using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Tend.Hosting;

/// <summary>
/// sd_notify(3) in managed code: each message is one datagram to the unix socket named by
/// NOTIFY_SOCKET ("@name" is the abstract namespace, as in systemd).
/// </summary>
/// <remarks>
/// One unconnected socket is reused under a lock, with the address given on every send, so a
/// manager that restarts and binds the same path again is reached without reopening anything.
/// A unix datagram send blocks while the receiver's queue is full, and that queue is short
/// (net.unix.max_dgram_qlen, 10 by default, maybe shared by every instance the manager runs). So
/// a send may wait <see cref="SendTimeout"/> for a busy manager to catch up, but no longer: one
/// that stopped reading must not freeze the app's threads or its watchdog timer. Every failure
/// (no such socket, a timeout, a path too long for sun_path) is swallowed and counted; the socket
/// is then reopened on the next send.
/// </remarks>
internal sealed partial class TendNotifier : ITendNotifier, IDisposable
{
    internal static readonly TimeSpan SendTimeout = TimeSpan.FromMilliseconds(100);

    private readonly Lock _gate = new();
    private readonly string? _address;
    private readonly ILogger _logger;
    private UnixDomainSocketEndPoint? _endPoint;
    private Socket? _socket;
    private long _failedSends;
    private bool _failing;
    private bool _disposed;

    /// <param name="notifySocket">NOTIFY_SOCKET's value; null or empty gives a disabled notifier.</param>
    /// <param name="logger">Where a failed send is reported, once per outage.</param>
    public TendNotifier(string? notifySocket, ILogger<TendNotifier>? logger = null)
    {
        _address = string.IsNullOrEmpty(notifySocket) ? null : notifySocket;
        _logger = logger ?? NullLogger<TendNotifier>.Instance;
    }

    public static TendNotifier Disabled() => new(null);

    public bool IsEnabled => _address is not null;

    public long FailedSends => Interlocked.Read(ref _failedSends);

    public void Notify(string state)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (_address is null) return;
        var datagram = Encoding.UTF8.GetBytes(state);
        lock (_gate)
        {
            if (_disposed) return;
            try
            {
                _endPoint ??= new UnixDomainSocketEndPoint(_address[0] == '@' ? "\0" + _address[1..] : _address);
                _socket ??= new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified)
                {
                    SendTimeout = (int)SendTimeout.TotalMilliseconds,
                };
                _socket.SendTo(datagram, SocketFlags.None, _endPoint);
                if (_failing)
                {
                    _failing = false;
                    LogRecovered(_logger, _address);
                }
            }
            catch (Exception ex) // whatever it is, the app must not crash because its manager went away
            {
                Interlocked.Increment(ref _failedSends);
                _socket?.Dispose();
                _socket = null;
                if (!_failing)
                {
                    _failing = true;
                    LogSendFailed(_logger, _address, ex.Message);
                }
            }
        }
    }

    public void SetStatus(string status)
    {
        ArgumentNullException.ThrowIfNull(status);
        // A line break would end STATUS and start another assignment the app never meant to send.
        Notify("STATUS=" + status.ReplaceLineEndings(" "));
    }

    public void Ready() => Notify("READY=1");

    public void Stopping() => Notify("STOPPING=1");

    public void Reloading()
    {
        // systemd (Type=notify-reload) wants CLOCK_MONOTONIC in µs with RELOADING=1, to tell this
        // reload from an earlier one; Stopwatch is CLOCK_MONOTONIC on Linux.
        var usec = (long)(Stopwatch.GetTimestamp() * (1_000_000.0 / Stopwatch.Frequency));
        Notify("RELOADING=1\nMONOTONIC_USEC=" + usec.ToString(CultureInfo.InvariantCulture));
    }

    public void Watchdog() => Notify("WATCHDOG=1");

    public void Dispose()
    {
        lock (_gate)
        {
            _disposed = true;
            _socket?.Dispose();
            _socket = null;
        }
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Warning,
        Message = "Cannot notify the process manager at NOTIFY_SOCKET {Address}: {Error}. Messages are dropped until it answers again.")]
    private static partial void LogSendFailed(ILogger logger, string address, string error);

    [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "Notifying the process manager at NOTIFY_SOCKET {Address} again.")]
    private static partial void LogRecovered(ILogger logger, string address);
}
