using System.Globalization;

namespace Tend.Health;

/// <summary>
/// One sd_notify datagram, parsed: the assignments in the order they were sent. The helpers read them
/// the way systemd does: a flag is set if any line says so (READY=1 anywhere), a value is taken from
/// the first line with that key, and a number that does not parse is ignored (null), not the datagram.
/// </summary>
/// <param name="SenderPid">The sending process, as the kernel reported it (SCM_CREDENTIALS), never as
/// the payload claims.</param>
/// <param name="Fields">Every valid KEY=VALUE line, in order; duplicates kept.</param>
public sealed record NotifyMessage(int SenderPid, IReadOnlyList<KeyValuePair<string, string>> Fields)
{
    /// <summary>READY=1: startup is finished.</summary>
    public bool Ready => Has("READY", "1");

    /// <summary>STOPPING=1: the app has begun shutting down.</summary>
    public bool Stopping => Has("STOPPING", "1");

    /// <summary>RELOADING=1: the app is reloading its configuration; READY=1 follows when done.</summary>
    public bool Reloading => Has("RELOADING", "1");

    /// <summary>WATCHDOG=1: a keep-alive ping.</summary>
    public bool Watchdog => Has("WATCHDOG", "1");

    /// <summary>WATCHDOG=trigger: the app asks to be treated as if its watchdog had expired.</summary>
    public bool WatchdogTrigger => Has("WATCHDOG", "trigger");

    /// <summary>STATUS=…: free-form text describing the app's state.</summary>
    public string? Status => Find("STATUS");

    /// <summary>EXTEND_TIMEOUT_USEC=n: the current start or stop step needs n more microseconds.</summary>
    public TimeSpan? ExtendTimeout => Microseconds(Find("EXTEND_TIMEOUT_USEC"));

    /// <summary>WATCHDOG_USEC=n: the app changes its own watchdog period to n microseconds.</summary>
    public TimeSpan? WatchdogUsec => Microseconds(Find("WATCHDOG_USEC"));

    /// <summary>MAINPID=n: the app's main process is now n (a positive pid).</summary>
    public int? MainPid =>
        int.TryParse(Find("MAINPID"), NumberStyles.None, CultureInfo.InvariantCulture, out int pid) && pid > 0 ? pid : null;

    private bool Has(string key, string value)
    {
        foreach (var (k, v) in Fields)
        {
            if (k == key && v == value) return true;
        }
        return false;
    }

    private string? Find(string key)
    {
        foreach (var (k, v) in Fields)
        {
            if (k == key) return v;
        }
        return null;
    }

    private static TimeSpan? Microseconds(string? text)
    {
        // TimeSpan holds at most long.MaxValue ticks of 100 ns; anything longer is as unparseable as "abc".
        const long MaxMicroseconds = long.MaxValue / TimeSpan.TicksPerMicrosecond;
        return long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out long us) && us <= MaxMicroseconds
            ? TimeSpan.FromTicks(us * TimeSpan.TicksPerMicrosecond)
            : null;
    }
}
