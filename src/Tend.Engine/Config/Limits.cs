namespace Tend.Config;

/// <summary>
/// Bounds on what a config (or an API request) may ask for, checked before anything starts, so
/// that a typo or a hostile request cannot exhaust the daemon (docs/config.md#limits). A program
/// cannot receive a NUL in an argument, a path or the environment, nor a variable name with '=':
/// those are errors at load, not a failed launch.
/// </summary>
public static class Limits
{
    /// <summary>Instances of one app (also the ceiling of `tend scale`).</summary>
    public const int MaxInstances = 1000;

    /// <summary>Characters of an app or supervisor name: it becomes a log file name and a URL segment.</summary>
    public const int MaxNameLength = 64;

    /// <summary>Size of one env_file; it must be a regular file (a FIFO or /dev/zero would never end).</summary>
    public const long MaxEnvFileBytes = 1024 * 1024;

    /// <summary>The environment plus the arguments of one app, in bytes as exec(2) counts them
    /// (each string and its NUL): half of Linux's usual 2 MiB ARG_MAX, so the spawn cannot fail on E2BIG.</summary>
    public const long MaxExecBytes = 1024 * 1024;

    /// <summary>Everything in <paramref name="spec"/> that no program could be started with, as (field, message).</summary>
    public static IEnumerable<(string Field, string Message)> SpawnProblems(AppSpec spec)
    {
        const string Nul = "contains a NUL character (\\0), which no program can receive";
        if (spec.Command.Contains('\0')) yield return ("run", Nul);
        for (int i = 0; i < spec.Args.Count; i++)
            if (spec.Args[i].Contains('\0')) yield return ($"args[{i}]", Nul);
        if (spec.Cwd.Contains('\0')) yield return ("cwd", Nul);
        if (spec.Logs.OutFile?.Contains('\0') == true) yield return ("logs.out_file", Nul);
        if (spec.Logs.ErrFile?.Contains('\0') == true) yield return ("logs.err_file", Nul);
        long bytes = spec.Command.Length + 1 + spec.Args.Sum(a => (long)a.Length + 1);
        foreach (var (name, value) in spec.Env)
        {
            if (name.Length == 0 || name.Contains('=') || name.Contains('\0'))
                yield return ($"env.{name.Replace("\0", "\\0", StringComparison.Ordinal)}", "is not a valid environment variable name (empty, or holding '=' or NUL)");
            else if (value.Contains('\0'))
                yield return ($"env.{name}", Nul);
            bytes += name.Length + value.Length + 2;
        }
        if (bytes > MaxExecBytes)
            yield return ("env", $"the environment and arguments take {bytes / 1024} KiB; at most {MaxExecBytes / 1024} KiB is allowed (exec fails beyond what the kernel takes)");
    }
}
