using Tend.Api;
using Tend.Events;
using Tend.Tests.Support;

namespace Tend.Tests.Events;

/// <summary>The hub alone: numbering, the buffer, replay/live without gaps or duplicates, slow readers.</summary>
public sealed class EventHubTests
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(30);
    private readonly FakeTimeProvider _time = new();

    private static void PublishN(EventHub hub, int n, string type = "started")
    {
        for (int i = 0; i < n; i++) hub.Publish(type, "web", 0, 100 + i, "pid " + (100 + i));
    }

    [Fact]
    public void Publish_NumbersFromOne_StampsTheProvidersTime()
    {
        var hub = new EventHub(_time);
        LifecycleEvent first = hub.Publish(EventTypes.Started, "web", 0, 42, "pid 42");
        _time.Advance(TimeSpan.FromSeconds(3));
        LifecycleEvent second = hub.Publish(EventTypes.Exited, "web", 0, 42, "exit code 1 after 3s", new Dictionary<string, string> { ["exit_code"] = "1" });

        Assert.Equal(1, first.Seq);
        Assert.Equal(2, second.Seq);
        Assert.Equal(_time.GetUtcNow() - TimeSpan.FromSeconds(3), first.Time);
        Assert.Equal(_time.GetUtcNow(), second.Time);
        Assert.Equal("1", second.Data!["exit_code"]);
        Assert.Equal(2, hub.LastSequence);
    }

    [Fact]
    public void Snapshot_After_ReturnsOnlyLaterEvents()
    {
        var hub = new EventHub(_time);
        PublishN(hub, 10);

        Assert.Equal(Enumerable.Range(1, 10).Select(i => (long)i), hub.Snapshot().Select(e => e.Seq));
        Assert.Equal([8L, 9L, 10L], hub.Snapshot(7).Select(e => e.Seq));
        Assert.Empty(hub.Snapshot(10));
    }

    [Fact]
    public void Snapshot_AfterBeyondNewest_IsFromAnEarlierDaemonRun_ReplaysAll()
    {
        var hub = new EventHub(_time);
        PublishN(hub, 3);

        Assert.Equal([1L, 2L, 3L], hub.Snapshot(500).Select(e => e.Seq));
    }

    [Fact]
    public void Buffer_Wraps_KeepsTheNewest()
    {
        var hub = new EventHub(_time, capacity: 5);
        PublishN(hub, 12);

        Assert.Equal([8L, 9L, 10L, 11L, 12L], hub.Snapshot().Select(e => e.Seq));
        Assert.Equal([11L, 12L], hub.Snapshot(10).Select(e => e.Seq));
    }

    [Fact]
    public async Task Subscribe_AfterEventsLeftTheBuffer_NoticeWithCountThenTheBuffered()
    {
        var hub = new EventHub(_time, capacity: 5);
        PublishN(hub, 12);
        using var cts = new CancellationTokenSource(s_timeout);

        var got = await TakeAsync(hub.SubscribeAsync(2, cts.Token), 6);

        Assert.Equal(EventTypes.EventsDropped, got[0].Type);
        Assert.Equal(0, got[0].Seq);
        Assert.Equal("5", got[0].Data!["count"]); // 3..7 are gone
        Assert.Equal("2", got[0].Data!["after"]);
        Assert.Equal([8L, 9L, 10L, 11L, 12L], got.Skip(1).Select(e => e.Seq));
    }

    [Fact]
    public async Task Subscribe_ReplaysThenFollowsLive()
    {
        var hub = new EventHub(_time);
        PublishN(hub, 3);
        using var cts = new CancellationTokenSource(s_timeout);
        await using var reader = hub.SubscribeAsync(1, cts.Token).GetAsyncEnumerator(cts.Token);

        Assert.True(await reader.MoveNextAsync());
        Assert.Equal(2, reader.Current.Seq);
        Assert.True(await reader.MoveNextAsync());
        Assert.Equal(3, reader.Current.Seq);

        ValueTask<bool> pending = reader.MoveNextAsync();
        hub.Publish(EventTypes.Ready, "web", 0, 100, "READY=1");
        Assert.True(await pending);
        Assert.Equal(4, reader.Current.Seq);
        Assert.Equal(EventTypes.Ready, reader.Current.Type);
    }

    [Fact]
    public async Task Subscribe_SlowReader_DropsOldest_NoticeBeforeTheNewest_PublisherNeverWaits()
    {
        var hub = new EventHub(_time, subscriberCapacity: 4);
        using var cts = new CancellationTokenSource(s_timeout);
        await using var reader = hub.SubscribeAsync(null, cts.Token).GetAsyncEnumerator(cts.Token);

        ValueTask<bool> first = reader.MoveNextAsync(); // subscribes
        hub.Publish(EventTypes.Started, "web", 0, 1, "pid 1");
        Assert.True(await first);
        Assert.Equal(1, reader.Current.Seq);

        // The reader is suspended; ten more arrive and its channel keeps the last four.
        PublishN(hub, 10);

        Assert.True(await reader.MoveNextAsync());
        Assert.Equal(EventTypes.EventsDropped, reader.Current.Type);
        Assert.Equal("6", reader.Current.Data!["count"]);
        Assert.Equal("1", reader.Current.Data!["after"]);
        var rest = new List<long>();
        for (int i = 0; i < 4; i++)
        {
            Assert.True(await reader.MoveNextAsync());
            rest.Add(reader.Current.Seq);
        }
        Assert.Equal([8L, 9L, 10L, 11L], rest);
        // Everything dropped is still in the hub's buffer for a reconnect with after=1.
        Assert.Equal(Enumerable.Range(2, 10).Select(i => (long)i), hub.Snapshot(1).Select(e => e.Seq));
    }

    [Fact]
    public async Task Subscribe_RacingPublishers_EveryReaderSeesEachNumberOnceInOrder()
    {
        const int total = 20_000;
        const int readers = 16;
        var hub = new EventHub(TimeProvider.System, capacity: total, subscriberCapacity: total);
        using var cts = new CancellationTokenSource(s_timeout);

        // Two publishers and the readers all start together; each reader subscribes somewhere in
        // the middle of the stream and must see 1..total (replay, then live) with no gap and no repeat.
        using var go = new ManualResetEventSlim();
        var publishers = Enumerable.Range(0, 2).Select(_ => Task.Run(() =>
        {
            go.Wait(cts.Token);
            for (int i = 0; i < total / 2; i++) hub.Publish(EventTypes.Started, "web", 0, i, "x");
        })).ToList();
        var subscribers = Enumerable.Range(0, readers).Select(r => Task.Run(async () =>
        {
            go.Wait(cts.Token);
            for (int spin = 0; spin < r * 200; spin++) Thread.SpinWait(20);
            var seen = new List<long>(total);
            await foreach (LifecycleEvent e in hub.SubscribeAsync(null, cts.Token))
            {
                seen.Add(e.Seq);
                if (seen.Count == total) break;
            }
            return seen;
        })).ToList();
        go.Set();

        await Task.WhenAll(publishers).WaitAsync(s_timeout);
        List<long>[] results = await Task.WhenAll(subscribers).WaitAsync(s_timeout);

        var expected = Enumerable.Range(1, total).Select(i => (long)i).ToList();
        foreach (List<long> seen in results) Assert.Equal(expected, seen);
        Assert.Equal(0, hub.SubscriberCount);
    }

    [Fact]
    public async Task Subscribe_Cancelled_Unsubscribes()
    {
        var hub = new EventHub(_time);
        using var cts = new CancellationTokenSource(s_timeout);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cts.Token);
        var reading = Task.Run(async () =>
        {
            await foreach (LifecycleEvent _ in hub.SubscribeAsync(null, stop.Token)) { }
        });
        await Eventually.TrueAsync(() => hub.SubscriberCount == 1, "the reader subscribed");

        stop.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => reading.WaitAsync(s_timeout));
        Assert.Equal(0, hub.SubscriberCount);
    }

    private static async Task<List<LifecycleEvent>> TakeAsync(IAsyncEnumerable<LifecycleEvent> events, int count)
    {
        var got = new List<LifecycleEvent>();
        await foreach (LifecycleEvent e in events)
        {
            got.Add(e);
            if (got.Count == count) break;
        }
        return got;
    }
}
