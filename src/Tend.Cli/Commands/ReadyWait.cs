using System.Diagnostics;
using Tend.Api;

namespace Tend.Cli.Commands;

/// <summary>
/// `tend start --wait-ready`: polls the daemon until every instance of the started apps is ready.
/// An instance that is restarting (waiting, launching) is given the rest of the time; one that
/// ended stopped, errored or blocked never will be ready, so the wait fails at once with why.
/// </summary>
internal static class ReadyWait
{
    private static readonly TimeSpan s_poll = TimeSpan.FromMilliseconds(100);

    /// <summary>Null once all of <paramref name="apps"/> are ready; else what kept them.</summary>
    public static async Task<string?> WaitAsync(DaemonClient client, IReadOnlyCollection<string> apps, TimeSpan timeout, CancellationToken ct)
    {
        if (apps.Count == 0) return null;
        var names = new HashSet<string>(apps, StringComparer.Ordinal);
        var clock = Stopwatch.StartNew();
        while (true)
        {
            InstanceInfo[] rows = await client.GetAsync(ApiRoutes.List, TendJsonContext.Default.InstanceInfoArray, ct).ConfigureAwait(false);
            var mine = rows.Where(r => names.Contains(r.Name)).ToList();
            var notReady = mine.Where(r => !(r.Status == "online" && r.Ready)).ToList();
            if (notReady.Count == 0) return null;
            if (notReady.FirstOrDefault(r => r.Status is "stopped" or "errored" or "blocked") is { } dead)
                return $"{dead.Name}#{dead.Instance} is {dead.Status} and will not become ready (tend describe {dead.Name} says why)";
            if (clock.Elapsed >= timeout)
            {
                string waiting = string.Join(", ", notReady.Select(r => $"{r.Name}#{r.Instance} ({r.Status}{(r.StatusText is { } t ? ": " + t : "")})"));
                return $"not ready within {Config.Units.FormatDuration(timeout)}: {waiting}";
            }
            await Task.Delay(s_poll, ct).ConfigureAwait(false);
        }
    }
}
