using System.Globalization;
using Tend.Io;
using Tend.Supervision;

namespace Tend.Daemon;

/// <summary>
/// The daemon as a Type=notify service (docs/startup.md): READY=1 once the declared apps are restored
/// and the control socket listens, STOPPING=1 when it begins to stop them, WATCHDOG=1 at half the
/// interval systemd asks for (WATCHDOG_USEC) for as long as the engine answers, and STATUS= with what
/// runs. Silent when nobody set NOTIFY_SOCKET (the daemon the CLI starts by itself).
/// </summary>
internal sealed class ServiceManagerLink : IDisposable
{
    private readonly ServiceManagerSocket? _socket;
    private readonly ILogger _logger;
    private readonly TimeSpan? _watchdog;
    private Timer? _watchdogTimer;
    private int _pinging;

    public ServiceManagerLink(Func<string, string?> env, ILogger logger)
    {
        _socket = ServiceManagerSocket.FromEnvironment(env);
        _watchdog = ServiceManagerSocket.WatchdogInterval(env, Environment.ProcessId);
        _logger = logger;
        if (_socket is not null) ServiceLog.Managed(logger, _socket.Path, _watchdog is TimeSpan w ? $"watchdog every {w.TotalSeconds:0.###}s" : "no watchdog");
    }

    /// <summary>The socket, when a service manager listens: also where descriptors are stored (FDSTORE=1).</summary>
    public ServiceManagerSocket? Socket => _socket;

    public void Ready(Supervisor supervisor)
    {
        Send("READY=1\nSTATUS=" + Status(supervisor) + "\nMAINPID=" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        if (_watchdog is TimeSpan interval)
        {
            TimeSpan every = interval / 2;
            _watchdogTimer = new Timer(_ => Ping(supervisor), null, every, every);
        }
    }

    private int _stopping;

    /// <summary>Once, when the apps begin to stop (a SIGTERM from systemd, or `tend kill`).</summary>
    public void Stopping()
    {
        if (Interlocked.Exchange(ref _stopping, 1) == 1) return;
        _watchdogTimer?.Dispose();
        _watchdogTimer = null;
        Send("STOPPING=1\nSTATUS=stopping the apps");
    }

    /// <summary>
    /// One watchdog ping, sent only if the engine answers a list within the interval: a daemon whose
    /// supervisor is deadlocked stops pinging, and systemd restarts it.
    /// </summary>
    private void Ping(Supervisor supervisor)
    {
        if (Interlocked.Exchange(ref _pinging, 1) == 1) return; // the last one is still waiting for the engine
        try
        {
            Send("WATCHDOG=1\nSTATUS=" + Status(supervisor));
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            ServiceLog.SendFailed(_logger, "WATCHDOG=1", ex.Message);
        }
        finally { Volatile.Write(ref _pinging, 0); }
    }

    private static string Status(Supervisor supervisor)
    {
        var instances = supervisor.List();
        int online = instances.Count(i => i.Status == InstanceStatus.Online);
        return $"{supervisor.Apps.Count} apps, {online}/{instances.Length} instances online";
    }

    private void Send(string message)
    {
        if (_socket?.Send(message) is string error) ServiceLog.SendFailed(_logger, message.Split('\n')[0], error);
    }

    public void Dispose()
    {
        _watchdogTimer?.Dispose();
        _socket?.Dispose();
    }
}

internal static partial class ServiceLog
{
    [LoggerMessage(2110, LogLevel.Information, "service manager at {Socket} ({Watchdog})")]
    public static partial void Managed(ILogger logger, string socket, string watchdog);

    [LoggerMessage(2111, LogLevel.Warning, "could not tell the service manager {Message}: {Error}")]
    public static partial void SendFailed(ILogger logger, string message, string error);
}

/// <summary>
/// The service manager's descriptor store (FDSTORE=1, sd_pid_notify_with_fds(3)) as the engine's
/// <see cref="Tend.Supervision.IDescriptorStore"/>: on when the unit has one (systemd 254+ says so in
/// $FDSTORE; the unit `tend startup` writes sets TEND_FDSTORE=1 for older ones), so that a crash of
/// the daemon costs no app a restart: systemd passes the pipes and sockets to the next daemon.
/// </summary>
internal sealed class ServiceManagerStore(ServiceManagerSocket socket, ILogger logger) : Tend.Supervision.IDescriptorStore
{
    public static ServiceManagerStore? For(ServiceManagerLink link, Func<string, string?> env, ILogger logger)
    {
        if (link.Socket is not { } socket) return null;
        bool wanted = env("TEND_FDSTORE") == "1"
            || int.TryParse(env("FDSTORE"), NumberStyles.None, CultureInfo.InvariantCulture, out int max) && max > 0;
        return wanted ? new ServiceManagerStore(socket, logger) : null;
    }

    public void Keep(string name, System.Runtime.InteropServices.SafeHandle handle)
    {
        if (socket.Send($"FDSTORE=1\nFDNAME={name}", [handle]) is string error) ServiceLog.SendFailed(logger, "FDSTORE=1 " + name, error);
    }

    public void Forget(string name)
    {
        if (socket.Send($"FDSTOREREMOVE=1\nFDNAME={name}") is string error) ServiceLog.SendFailed(logger, "FDSTOREREMOVE=1 " + name, error);
    }
}
