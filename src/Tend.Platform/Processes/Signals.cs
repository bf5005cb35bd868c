namespace Tend.Processes;

/// <summary>Linux signal names and numbers (x86-64 and arm64 agree on all of these).</summary>
public static class Signals
{
    public const int SIGHUP = 1, SIGINT = 2, SIGQUIT = 3, SIGKILL = 9, SIGUSR1 = 10, SIGSEGV = 11,
        SIGUSR2 = 12, SIGPIPE = 13, SIGALRM = 14, SIGTERM = 15, SIGCHLD = 17, SIGCONT = 18, SIGSTOP = 19,
        SIGTSTP = 20, SIGWINCH = 28;

    private static readonly (string Name, int Number)[] s_table =
    [
        ("SIGHUP", 1), ("SIGINT", 2), ("SIGQUIT", 3), ("SIGILL", 4), ("SIGTRAP", 5), ("SIGABRT", 6),
        ("SIGBUS", 7), ("SIGFPE", 8), ("SIGKILL", 9), ("SIGUSR1", 10), ("SIGSEGV", 11), ("SIGUSR2", 12),
        ("SIGPIPE", 13), ("SIGALRM", 14), ("SIGTERM", 15), ("SIGSTKFLT", 16), ("SIGCHLD", 17),
        ("SIGCONT", 18), ("SIGSTOP", 19), ("SIGTSTP", 20), ("SIGTTIN", 21), ("SIGTTOU", 22),
        ("SIGURG", 23), ("SIGXCPU", 24), ("SIGXFSZ", 25), ("SIGVTALRM", 26), ("SIGPROF", 27),
        ("SIGWINCH", 28), ("SIGIO", 29), ("SIGPWR", 30), ("SIGSYS", 31),
    ];

    /// <summary>All known names, for error messages and suggestions.</summary>
    public static IEnumerable<string> Names => s_table.Select(s => s.Name);

    /// <summary>Accepts "SIGTERM", "TERM", "sigterm" or "15". Returns false for anything else.</summary>
    public static bool TryParse(string? text, out int number)
    {
        number = 0;
        if (string.IsNullOrWhiteSpace(text)) return false;
        text = text.Trim();
        if (int.TryParse(text, out int n))
        {
            if (n is >= 1 and <= 64) { number = n; return true; }
            return false;
        }
        string upper = text.ToUpperInvariant();
        if (!upper.StartsWith("SIG", StringComparison.Ordinal)) upper = "SIG" + upper;
        foreach (var (name, num) in s_table)
        {
            if (name == upper) { number = num; return true; }
        }
        return false;
    }

    /// <summary>"SIGTERM" for 15; "SIG42" for a signal without a name here (real-time signals).</summary>
    public static string Name(int number)
    {
        foreach (var (name, num) in s_table)
        {
            if (num == number) return name;
        }
        return "SIG" + number;
    }

    /// <summary>
    /// kill(2) by pid, for a process Tend did not spawn and holds no pidfd for (the foreground
    /// engine of `tend run`); children are signalled through their pidfd (ChildProcess).
    /// </summary>
    public static bool SendByPid(int pid, int signal) => Interop.Sys.Kill(pid, signal) == 0;
}
