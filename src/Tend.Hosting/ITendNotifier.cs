namespace Tend.Hosting;

/// <summary>
/// Messages from this process to its manager over <c>NOTIFY_SOCKET</c> (systemd's notify protocol,
/// which Tend speaks). Inject it unconditionally: when the process is not under a manager it is
/// disabled and every call is a no-op.
/// </summary>
/// <remarks>
/// Sending never throws and waits at most 100 ms: an app must not stall or crash because its manager went
/// away. Failures are counted in <see cref="FailedSends"/> (and logged once per outage). Thread-safe.
/// </remarks>
public interface ITendNotifier
{
    /// <summary>True when <c>NOTIFY_SOCKET</c> was set: messages are actually sent.</summary>
    bool IsEnabled { get; }

    /// <summary>Messages that could not be sent (socket gone, manager not reading, bad path).</summary>
    long FailedSends { get; }

    /// <summary>Sends a raw state string: newline-separated <c>KEY=value</c> assignments, e.g. <c>"READY=1\nSTATUS=warm"</c>.</summary>
    void Notify(string state);

    /// <summary>Sends <c>STATUS=…</c>, a one-line free-form status the manager shows. Line breaks become spaces.</summary>
    void SetStatus(string status);

    /// <summary>Sends <c>READY=1</c>: start-up is finished. <c>AddTend</c> sends it once the host has started.</summary>
    void Ready();

    /// <summary>Sends <c>STOPPING=1</c>: a graceful stop has begun. <c>AddTend</c> sends it when the host starts stopping.</summary>
    void Stopping();

    /// <summary>Sends <c>RELOADING=1</c> (with <c>MONOTONIC_USEC</c>, as systemd asks); send <see cref="Ready"/> when the reload is done.</summary>
    void Reloading();

    /// <summary>Sends <c>WATCHDOG=1</c>: the process is alive. <c>AddTend</c> sends it on a timer when <c>WATCHDOG_USEC</c> is set.</summary>
    void Watchdog();
}
