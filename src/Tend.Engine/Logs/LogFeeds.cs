using System.Collections.Concurrent;

namespace Tend.Logs;

/// <summary>
/// One live <see cref="LineFeed"/> per app, instance number and stream, for as long as the daemon
/// runs: a follower of `web#0`'s output keeps following it across restarts and reloads (which give
/// the number a new process and a new writer, but the same feed), as `tail -F` on its file would.
/// </summary>
public sealed class LogFeeds
{
    private readonly ConcurrentDictionary<(string App, int Instance, LogStream Stream), LineFeed> _feeds = new();

    public LineFeed For(string app, int instance, LogStream stream) =>
        _feeds.GetOrAdd((app, instance, stream), static _ => new LineFeed());
}
