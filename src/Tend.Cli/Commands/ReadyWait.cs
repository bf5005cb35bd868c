using System.Diagnostics;
using System.Text;
using System.Threading.Channels;
using Tend.Api;

namespace Tend.Cli.Commands;

/// <summary>
/// `tend start --wait-ready`: waits until every instance of the started apps is ready. It follows
/// the daemon's event stream (subscribed before it first reads the list, so nothing is missed) and
/// reads the list again only when one of those apps had an event: no polling. An instance that is
/// restarting (waiting, launching) is given the rest of the time; one that ended stopped, errored
/// or blocked never will be ready, so the wait fails at once with why.
/// </summary>
internal static class ReadyWait
{
    /// <summary>Null once all of <paramref name="apps"/> are ready; else what kept them.</summary>
    public static async Task<string?> WaitAsync(DaemonClient client, IReadOnlyCollection<string> apps, TimeSpan timeout, CancellationToken ct)
    {
        if (apps.Count == 0) return null;
        var names = new HashSet<string>(apps, StringComparer.Ordinal);
        // A job (schedule:) is not running between its runs: there is nothing to wait for.
        JobInfo[] jobs = await client.GetAsync(ApiRoutes.Jobs, TendJsonContext.Default.JobInfoArray, ct).ConfigureAwait(false);
        names.ExceptWith(jobs.Select(j => j.Name));
        if (names.Count == 0) return null;
        var clock = Stopwatch.StartNew();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        // One pending "look again" at most: a burst of events is one more look at the list.
        var changed = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
        using DaemonResponse events = await client.GetStreamingAsync(ApiRoutes.Events + "?follow=true&after=latest", ct).ConfigureAwait(false);
        Task reader = ReadEventsAsync(events, names, changed.Writer, stop.Token);
        try
        {
            while (true)
            {
                InstanceInfo[] rows = await client.GetAsync(ApiRoutes.List, TendJsonContext.Default.InstanceInfoArray, ct).ConfigureAwait(false);
                var notReady = rows.Where(r => names.Contains(r.Name) && !(r.Status == "online" && r.Ready)).ToList();
                if (notReady.Count == 0) return null;
                if (notReady.FirstOrDefault(r => r.Status is "stopped" or "errored" or "blocked") is { } dead)
                    return $"{dead.Name}#{dead.Instance} is {dead.Status} and will not become ready (tend describe {dead.Name} says why)";
                TimeSpan left = timeout - clock.Elapsed;
                if (left <= TimeSpan.Zero || !await NextChangeAsync(changed.Reader, left, ct).ConfigureAwait(false))
                {
                    string waiting = string.Join(", ", notReady.Select(r => $"{r.Name}#{r.Instance} ({r.Status}{(r.StatusText is { } t ? ": " + t : "")})"));
                    return $"not ready within {Config.Units.FormatDuration(timeout)}: {waiting}";
                }
            }
        }
        finally
        {
            await stop.CancelAsync().ConfigureAwait(false);
            events.Dispose();
            await reader.ConfigureAwait(false);
        }
    }

    /// <summary>True at the next event of one of the apps; false when <paramref name="left"/> runs out first.</summary>
    private static async Task<bool> NextChangeAsync(ChannelReader<bool> changed, TimeSpan left, CancellationToken ct)
    {
        try
        {
            await changed.ReadAsync(ct).AsTask().WaitAsync(left, ct).ConfigureAwait(false);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
        catch (ChannelClosedException ex)
        {
            throw new CliException("the event stream ended unexpectedly: the daemon closed the connection", 1, null, ex);
        }
    }

    private static async Task ReadEventsAsync(DaemonResponse events, HashSet<string> names, ChannelWriter<bool> changed, CancellationToken ct)
    {
        try
        {
            using var lines = new StreamReader(events.Body, Encoding.UTF8);
            while (await lines.ReadLineAsync(ct).ConfigureAwait(false) is { } line)
            {
                if (line.Length == 0) continue;
                TendEvent? e = System.Text.Json.JsonSerializer.Deserialize(line, TendJsonContext.Default.TendEvent);
                if (e?.App is null || names.Contains(e.App)) changed.TryWrite(true);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or ObjectDisposedException or System.Text.Json.JsonException)
        {
        }
        finally
        {
            changed.TryComplete();
        }
    }
}
