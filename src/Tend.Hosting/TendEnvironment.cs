using System.Globalization;

namespace Tend.Hosting;

/// <summary>
/// The variables the manager sets for us, read once. Tests build one by hand instead of mutating
/// the process environment (their tests run in parallel in one process).
/// </summary>
internal sealed record TendEnvironment(string? NotifySocket, string? WatchdogUsec = null, string? WatchdogPid = null)
{
    public static TendEnvironment FromProcess() => new(
        Environment.GetEnvironmentVariable("NOTIFY_SOCKET"),
        Environment.GetEnvironmentVariable("WATCHDOG_USEC"),
        Environment.GetEnvironmentVariable("WATCHDOG_PID"));

    public bool HasNotifySocket => !string.IsNullOrEmpty(NotifySocket);

    /// <summary>
    /// How often to send WATCHDOG=1, or null for never: half of WATCHDOG_USEC, as sd_watchdog_enabled(3)
    /// advises. Like systemd, a WATCHDOG_PID naming another process means the watchdog is not ours (a
    /// child that inherited the variables), and an unreadable value means no watchdog.
    /// </summary>
    public TimeSpan? WatchdogInterval(int pid)
    {
        if (!HasNotifySocket || string.IsNullOrEmpty(WatchdogUsec)) return null;
        if (!long.TryParse(WatchdogUsec, NumberStyles.None, CultureInfo.InvariantCulture, out var usec) || usec <= 0) return null;
        if (!string.IsNullOrEmpty(WatchdogPid)
            && (!int.TryParse(WatchdogPid, NumberStyles.None, CultureInfo.InvariantCulture, out var owner) || owner != pid))
            return null;
        // Microseconds → ticks (100 ns), halved; at least a millisecond so a tiny value can't spin.
        return TimeSpan.FromTicks(Math.Max(usec * 10 / 2, TimeSpan.TicksPerMillisecond));
    }
}
