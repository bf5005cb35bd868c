using System.Globalization;
using Tend.Config;

namespace Tend.Supervision;

/// <summary>
/// The environment of one run of an instance: the app's env, then what Tend gives every instance
/// (TEND_APP, TEND_INSTANCE, TEND_INSTANCES, increment_var, PORT in proxy mode, NOTIFY_SOCKET and
/// WATCHDOG_USEC when it speaks sd_notify), minus what must not leak in from whoever started the
/// daemon (a NOTIFY_SOCKET or LISTEN_FDS that belong to someone else).
/// </summary>
internal static class InstanceEnvironment
{
    /// <param name="notifySocket">Opens (once) and returns the instance's notify socket path; asked only when the app uses it.</param>
    /// <param name="nodeDiagnosticDir">node_diagnostics: where Node writes heap snapshots (made by the caller).</param>
    public static Dictionary<string, string> Build(AppSpec spec, int number, int? proxyPort, Func<string?> notifySocket, bool hasListenFds, string? nodeDiagnosticDir = null)
    {
        var env = new Dictionary<string, string>(spec.Env, StringComparer.Ordinal)
        {
            ["TEND_APP"] = spec.Name,
            ["TEND_INSTANCE"] = Invariant(number),
            ["TEND_INSTANCES"] = Invariant(spec.Instances),
        };
        if (spec.IncrementVar is { } inc) env[inc.Name] = Invariant(inc.Start + number);
        // PM2 numbers the instances of every app this way, and Node apps written for it read it.
        if (spec.NodeIpc) env.TryAdd("NODE_APP_INSTANCE", Invariant(number));
        else
        {
            // Set by the spawn only for ipc: node; one inherited from a parent Node would point at a descriptor the app does not have.
            env.Remove("NODE_CHANNEL_FD");
            env.Remove("NODE_CHANNEL_SERIALIZATION_MODE");
        }
        if (proxyPort is int port) env["PORT"] = Invariant(port);
        if (spec.UsesNotify && notifySocket() is { } socket)
        {
            env["NOTIFY_SOCKET"] = socket;
            if (spec.Watchdog is TimeSpan watchdog) env["WATCHDOG_USEC"] = Invariant((long)watchdog.TotalMicroseconds);
        }
        else
        {
            // Ours to give: one inherited from whoever started the daemon would point at the wrong listener.
            env.Remove("NOTIFY_SOCKET");
            env.Remove("WATCHDOG_USEC");
            env.Remove("WATCHDOG_PID");
        }
        if (!hasListenFds)
        {
            // Likewise socket activation: a daemon started by systemd with sockets of its own must
            // not make an app believe fds 3.. are listening sockets.
            env.Remove("LISTEN_FDS");
            env.Remove("LISTEN_PID");
            env.Remove("LISTEN_FDNAMES");
        }
        if (spec.NodeDiagnostics && nodeDiagnosticDir is not null)
        {
            // Appended, so an app's own NODE_OPTIONS (--max-old-space-size …) stay.
            string ours = $"--heapsnapshot-signal={NodeSnapshotSignal} --diagnostic-dir={nodeDiagnosticDir}";
            env["NODE_OPTIONS"] = env.TryGetValue("NODE_OPTIONS", out string? theirs) && theirs.Length > 0 ? theirs + " " + ours : ours;
        }
        return env;
    }

    /// <summary>The signal node_diagnostics: apps write a heap snapshot on.</summary>
    public const string NodeSnapshotSignal = "SIGUSR2";

    /// <summary>Where a node_diagnostics: instance's heap snapshots land before `tend diag` files them.</summary>
    public static string NodeDiagnosticDir(string home, string app, int number) => Path.Combine(home, "diag", "node", $"{app}-{number}");

    private static string Invariant(long value) => value.ToString(CultureInfo.InvariantCulture);
}
