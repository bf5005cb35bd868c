using System.Collections;
using Tend.Processes;

namespace Tend.Cli;

/// <summary>
/// Starts the daemon detached from the CLI: posix_spawn into a new session (no controlling
/// terminal, so a closed terminal's SIGHUP never reaches it), stdin/stdout/stderr on /dev/null,
/// no inherited descriptors. The daemon itself points its stdout/stderr at daemon.log
/// (--detached), so even a crash before logging is set up leaves its trace there.
/// </summary>
internal static class DaemonSpawner
{
    /// <param name="fileName">The program to run: the tend-daemon apphost, or the dotnet host for tend-daemon.dll.</param>
    /// <param name="args">Its arguments (the .dll path when run through the dotnet host).</param>
    /// <param name="home">The TEND_HOME the daemon serves.</param>
    public static void Spawn(string fileName, IReadOnlyList<string> args, string home)
    {
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (DictionaryEntry e in Environment.GetEnvironmentVariables()) env[(string)e.Key] = (string?)e.Value ?? "";
        env["TEND_HOME"] = home;
        // A daemon `tend` starts by itself is nobody's service: a NOTIFY_SOCKET, watchdog or socket
        // activation in the caller's environment (a shell inside a Type=notify unit) belongs to that
        // caller, and the daemon must not report to it or take its descriptors. `tend daemon run`
        // (what a unit's ExecStart runs) keeps them.
        foreach (string own in (string[])["NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES", "FDSTORE", "TEND_FDSTORE", "TEND_FDS"])
            env.Remove(own);

        // Not disposed on purpose: disposing would kill what we just started. The daemon outlives
        // us and is re-parented when we exit.
        _ = ChildProcess.Start(new SpawnRequest(fileName, [.. args, "--detached"], home, env) { RedirectOutput = false });
    }
}
