using System.Globalization;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Tend.Security;

namespace Tend.Events;

/// <summary>
/// The daemon's lifecycle events: numbered, kept in a ring buffer, and fanned out live.
///
/// Publishing assigns the sequence number, appends to the ring and offers the event to every
/// subscriber's channel, all under one lock. A subscriber registers and copies the buffered
/// events under that same lock, so the boundary between what it replays and what it receives live
/// is exact: nothing published in between can be missed or seen twice (Aspire's "subscribe first,
/// then send the snapshot", with the snapshot taken atomically with the subscription).
///
/// Publishers never wait: each subscriber has a bounded channel that drops its oldest event when
/// full. Because a subscriber sees every event in sequence order, a drop shows up as a gap in the
/// numbers; the reader turns the gap into one <see cref="EventTypes.EventsDropped"/> notice (seq 0,
/// not part of the sequence) before the next event, so a slow client knows what it missed and can
/// fetch it again from the buffer with after=.
/// </summary>
public sealed class EventHub
{
    public const int DefaultCapacity = 10_000;
    public const int DefaultSubscriberCapacity = 1_000;

    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private readonly LifecycleEvent[] _ring;
    private readonly int _subscriberCapacity;
    private readonly List<Channel<LifecycleEvent>> _subscribers = [];
    private int _start; // index of the oldest buffered event
    private int _count;
    private long _seq;

    public EventHub(TimeProvider time, int capacity = DefaultCapacity, int subscriberCapacity = DefaultSubscriberCapacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(subscriberCapacity, 1);
        _time = time;
        _ring = new LifecycleEvent[capacity];
        _subscriberCapacity = subscriberCapacity;
    }

    /// <summary>How many events the buffer keeps.</summary>
    public int Capacity => _ring.Length;

    /// <summary>The newest sequence number handed out (0 before the first event).</summary>
    public long LastSequence { get { lock (_gate) return _seq; } }

    public int SubscriberCount { get { lock (_gate) return _subscribers.Count; } }

    public LifecycleEvent Publish(string type, string? app, int? instance, int? pid, string message, IReadOnlyDictionary<string, string>? data = null)
    {
        // Everything on the stream leaves the daemon (tend events, /events, the dashboard): masked here, once.
        message = SecretMask.MaskUrlPassword(message);
        if (data is not null)
        {
            var masked = new Dictionary<string, string>(data.Count, StringComparer.Ordinal);
            foreach (var (key, value) in data) masked[key] = SecretMask.Value(key, value);
            data = masked;
        }
        lock (_gate)
        {
            var e = new LifecycleEvent(++_seq, _time.GetUtcNow(), type, app, instance, pid, message, data);
            if (_count < _ring.Length) _ring[(_start + _count++) % _ring.Length] = e;
            else
            {
                _ring[_start] = e;
                _start = (_start + 1) % _ring.Length;
            }
            // DropOldest: TryWrite always succeeds, and never waits for a reader.
            foreach (Channel<LifecycleEvent> subscriber in _subscribers) subscriber.Writer.TryWrite(e);
            return e;
        }
    }

    /// <summary>The buffered events with a sequence number above <paramref name="afterSequence"/>, oldest first.</summary>
    public IReadOnlyList<LifecycleEvent> Snapshot(long? afterSequence = null)
    {
        lock (_gate) return BufferedAfterLocked(EffectiveAfterLocked(afterSequence), out _);
    }

    /// <summary>
    /// The buffered events after <paramref name="afterSequence"/> (all of them when null), then live
    /// ones until <paramref name="ct"/> is cancelled. An after= beyond the newest number comes from
    /// a previous daemon run (the sequence restarts with the daemon) and replays the whole buffer.
    /// </summary>
    public async IAsyncEnumerable<LifecycleEvent> SubscribeAsync(long? afterSequence, [EnumeratorCancellation] CancellationToken ct = default)
    {
        var channel = Channel.CreateBounded<LifecycleEvent>(new BoundedChannelOptions(_subscriberCapacity)
        {
            FullMode = BoundedChannelFullMode.DropOldest,
            SingleReader = true,
            SingleWriter = false,
            AllowSynchronousContinuations = false,
        });
        IReadOnlyList<LifecycleEvent> backlog;
        long after;
        long missedBefore;
        long current;
        lock (_gate)
        {
            _subscribers.Add(channel);
            current = _seq;
            after = EffectiveAfterLocked(afterSequence);
            backlog = BufferedAfterLocked(after, out missedBefore);
        }
        try
        {
            // Events the client asked for that have already left the buffer.
            if (missedBefore > 0) yield return Dropped(missedBefore, after);
            foreach (LifecycleEvent e in backlog) yield return e;
            // The backlog covers everything up to `current`; the channel holds everything after.
            long last = Math.Max(after, current);
            while (await channel.Reader.WaitToReadAsync(ct).ConfigureAwait(false))
            {
                while (channel.Reader.TryRead(out LifecycleEvent? e))
                {
                    if (e.Seq > last + 1) yield return Dropped(e.Seq - last - 1, last);
                    yield return e;
                    last = e.Seq;
                }
            }
        }
        finally
        {
            lock (_gate) _subscribers.Remove(channel);
        }
    }

    private long EffectiveAfterLocked(long? afterSequence)
    {
        long after = afterSequence ?? 0;
        return after < 0 || after > _seq ? 0 : after;
    }

    private List<LifecycleEvent> BufferedAfterLocked(long after, out long missed)
    {
        var result = new List<LifecycleEvent>();
        long oldest = _count == 0 ? _seq + 1 : _ring[_start].Seq;
        missed = Math.Max(0, oldest - after - 1);
        for (int i = 0; i < _count; i++)
        {
            LifecycleEvent e = _ring[(_start + i) % _ring.Length];
            if (e.Seq > after) result.Add(e);
        }
        return result;
    }

    private LifecycleEvent Dropped(long count, long after) => new(
        0, _time.GetUtcNow(), EventTypes.EventsDropped, null, null, null,
        $"{count} events not delivered (this reader fell behind or they left the buffer); reconnect with after={after} for what is still buffered",
        new Dictionary<string, string>
        {
            ["count"] = count.ToString(CultureInfo.InvariantCulture),
            ["after"] = after.ToString(CultureInfo.InvariantCulture),
        });
}
