using System.Runtime.CompilerServices;
using System.Text;
using System.Threading.Channels;

namespace Tend.Logs;

// Live followers (`tend logs -f`, the dashboard). Each gets its own bounded channel that drops
// its oldest lines when the reader lags: a slow terminal must never slow the child down.
public sealed partial class LogWriter
{
    /// <summary>Lines a subscriber may fall behind before the oldest are dropped.</summary>
    public const int SubscriberCapacity = 10_000;

    private readonly Lock _subscribersSync = new();
    private Channel<LogLine>[] _subscribers = [];
    /// <summary>Read by the reader per line; strings are only made while it is non-zero.</summary>
    private volatile int _subscriberCount;
    private bool _subscribersCompleted;

    /// <summary>The number of live subscriptions.</summary>
    public int SubscriberCount => _subscriberCount;

    /// <summary>
    /// Follows the lines written from now on. The subscription is registered by this call (not
    /// on first MoveNextAsync), so nothing written after it returns is missed; it ends when the
    /// writer completes, when <paramref name="cancellationToken"/> is cancelled, or when the
    /// enumerator is disposed.
    /// </summary>
    public IAsyncEnumerable<LogLine> SubscribeAsync(CancellationToken cancellationToken = default)
    {
        var channel = Channel.CreateBounded<LogLine>(new BoundedChannelOptions(SubscriberCapacity)
        {
            FullMode = BoundedChannelFullMode.DropOldest,
            SingleReader = true,
            SingleWriter = false,
        });
        lock (_subscribersSync)
        {
            if (_subscribersCompleted)
            {
                channel.Writer.TryComplete();
            }
            else
            {
                _subscribers = [.. _subscribers, channel];
                _subscriberCount = _subscribers.Length;
            }
        }
        var registration = cancellationToken.Register(static s =>
        {
            var (writer, ch) = ((LogWriter, Channel<LogLine>))s!;
            writer.Unsubscribe(ch);
        }, (this, channel));
        return ReadSubscription(channel, registration, cancellationToken);
    }

    private async IAsyncEnumerable<LogLine> ReadSubscription(Channel<LogLine> channel,
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
        lock (_subscribersSync)
        {
            int i = Array.IndexOf(_subscribers, channel);
            if (i >= 0)
            {
                _subscribers = [.. _subscribers[..i], .. _subscribers[(i + 1)..]];
                _subscriberCount = _subscribers.Length;
            }
        }
        channel.Writer.TryComplete();
    }

    private void Publish(ReadOnlySpan<byte> text, DateTimeOffset time)
    {
        var line = new LogLine(time, App, Instance, Stream, Encoding.UTF8.GetString(text));
        foreach (var channel in Volatile.Read(ref _subscribers))
            channel.Writer.TryWrite(line);
    }

    private void CompleteSubscribers()
    {
        Channel<LogLine>[] subscribers;
        lock (_subscribersSync)
        {
            _subscribersCompleted = true;
            subscribers = _subscribers;
            _subscribers = [];
            _subscriberCount = 0;
        }
        foreach (var channel in subscribers)
            channel.Writer.TryComplete();
    }
}
