using System.Text;

namespace Tend.Logs;

// Live followers: those of this run (log probes) and, through Forward, those of the instance number
// across all its runs (`tend logs -f`, the dashboard). Strings are only made while someone listens.
public sealed partial class LogWriter
{
    /// <summary>Lines a subscriber may fall behind before the oldest are dropped.</summary>
    public const int SubscriberCapacity = LineFeed.SubscriberCapacity;

    private readonly LineFeed _runFeed = new();

    /// <summary>The instance number's lasting feed, which this writer also publishes to (never completed here).</summary>
    public LineFeed? Forward { get; init; }

    /// <summary>The number of live subscriptions of this run.</summary>
    public int SubscriberCount => _runFeed.Count;

    private bool HasListeners => _runFeed.Count > 0 || Forward is { Count: > 0 };

    /// <summary>
    /// Follows the lines written from now on, until this writer completes (see <see cref="LineFeed.SubscribeAsync"/>).
    /// </summary>
    public IAsyncEnumerable<LogLine> SubscribeAsync(CancellationToken cancellationToken = default) =>
        _runFeed.SubscribeAsync(cancellationToken);

    private void Publish(ReadOnlySpan<byte> text, DateTimeOffset time)
    {
        var line = new LogLine(time, App, Instance, Stream, Encoding.UTF8.GetString(text));
        _runFeed.Publish(line);
        Forward?.Publish(line);
    }

    private void CompleteSubscribers() => _runFeed.Complete();
}
