using System.Runtime.CompilerServices;
using System.Threading.Channels;

namespace Tend.Logs;

/// <summary>
/// Live followers of a stream of log lines. Each gets its own bounded channel that drops its oldest
/// lines when the reader lags: a slow terminal must never slow the child down. A
/// <see cref="LogWriter"/> has one for the run it copies (log probes follow it), and every instance
/// number has one that outlives its runs and reloads (<see cref="LogFeeds"/>: `tend logs -f`, the dashboard).
/// </summary>
public sealed class LineFeed
{
    /// <summary>Lines a subscriber may fall behind before the oldest are dropped.</summary>
    public const int SubscriberCapacity = 10_000;

    private readonly Lock _sync = new();
    private Channel<LogLine>[] _subscribers = [];
    private volatile int _count;
    private bool _completed;

    /// <summary>The number of live subscriptions; the writer makes strings only while it is non-zero.</summary>
    public int Count => _count;

    /// <summary>
    /// Follows the lines published from now on. The subscription is registered by this call (not on
    /// first MoveNextAsync), so nothing published after it returns is missed; it ends when the feed
    /// completes, when <paramref name="cancellationToken"/> is cancelled, or when the enumerator is disposed.
    /// </summary>
    public IAsyncEnumerable<LogLine> SubscribeAsync(CancellationToken cancellationToken = default)
    {
        var channel = Channel.CreateBounded<LogLine>(new BoundedChannelOptions(SubscriberCapacity)
        {
            FullMode = BoundedChannelFullMode.DropOldest,
            SingleReader = true,
            SingleWriter = false,
        });
        lock (_sync)
        {
            if (_completed)
            {
                channel.Writer.TryComplete();
            }
            else
            {
                _subscribers = [.. _subscribers, channel];
                _count = _subscribers.Length;
            }
        }
        var registration = cancellationToken.Register(static s =>
        {
            var (feed, ch) = ((LineFeed, Channel<LogLine>))s!;
            feed.Unsubscribe(ch);
        }, (this, channel));
        return ReadAsync(channel, registration, cancellationToken);
    }

    private async IAsyncEnumerable<LogLine> ReadAsync(Channel<LogLine> channel,
        CancellationTokenRegistration registration, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        try
        {
            while (await channel.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
            {
                while (channel.Reader.TryRead(out var line))
                    yield return line;
            }
        }
        finally
        {
            await registration.DisposeAsync().ConfigureAwait(false);
            Unsubscribe(channel);
        }
    }

    private void Unsubscribe(Channel<LogLine> channel)
    {
        lock (_sync)
        {
            int i = Array.IndexOf(_subscribers, channel);
            if (i >= 0)
            {
                _subscribers = [.. _subscribers[..i], .. _subscribers[(i + 1)..]];
                _count = _subscribers.Length;
            }
        }
        channel.Writer.TryComplete();
    }

    public void Publish(LogLine line)
    {
        foreach (var channel in Volatile.Read(ref _subscribers))
            channel.Writer.TryWrite(line);
    }

    /// <summary>Ends every subscription; later ones end at once.</summary>
    public void Complete()
    {
        Channel<LogLine>[] subscribers;
        lock (_sync)
        {
            _completed = true;
            subscribers = _subscribers;
            _subscribers = [];
            _count = 0;
        }
        foreach (var channel in subscribers)
            channel.Writer.TryComplete();
    }
}
