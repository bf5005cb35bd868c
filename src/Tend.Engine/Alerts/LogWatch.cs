using System.Text.RegularExpressions;
using Tend.Logs;

namespace Tend.Alerts;

/// <summary>
/// Follows one instance number's output (both streams, across its restarts) and notes when a line
/// matches a rule's pattern: the <c>log</c> series of a threshold or anomaly rule.
/// </summary>
internal sealed class LogWatch(Regex pattern, TimeProvider time)
{
    private readonly Lock _gate = new();
    private readonly Queue<DateTimeOffset> _matches = new();
    private readonly CancellationTokenSource _stop = new();

    public void Start(LogFeeds feeds, string app, int instance, CancellationToken engineStopping)
    {
        var linked = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token, engineStopping);
        Task outTask = FollowAsync(feeds.For(app, instance, LogStream.Out), linked.Token);
        Task errTask = FollowAsync(feeds.For(app, instance, LogStream.Err), linked.Token);
        _ = Task.WhenAll(outTask, errTask).ContinueWith(_ => linked.Dispose(), TaskScheduler.Default);
    }

    private async Task FollowAsync(LineFeed feed, CancellationToken ct)
    {
        try
        {
            await foreach (LogLine line in feed.SubscribeAsync(ct).ConfigureAwait(false))
            {
                bool hit;
                try { hit = pattern.IsMatch(line.Text); }
                catch (RegexMatchTimeoutException) { hit = false; }
                if (!hit) continue;
                lock (_gate)
                {
                    _matches.Enqueue(time.GetUtcNow());
                    if (_matches.Count > 100_000) _matches.Dequeue();
                }
            }
        }
        catch (OperationCanceledException) { }
    }

    /// <summary>How many lines matched within <paramref name="window"/> before <paramref name="now"/>; older ones are forgotten.</summary>
    public int CountWithin(TimeSpan window, DateTimeOffset now)
    {
        lock (_gate)
        {
            while (_matches.Count > 0 && now - _matches.Peek() > window) _matches.Dequeue();
            return _matches.Count;
        }
    }

    public void Stop() => _stop.Cancel();
}
