using Tend.Health;

namespace Tend.Tests.Health;

public sealed class ProbeHistoryTests
{
    private static readonly DateTimeOffset s_t0 = new(2025, 3, 4, 5, 6, 7, TimeSpan.Zero);

    private static ProbeResult Ok(string detail = "HTTP 200", double ms = 1) => new(true, TimeSpan.FromMilliseconds(ms), detail);
    private static ProbeResult Bad(string detail = "HTTP 503", double ms = 1) => new(false, TimeSpan.FromMilliseconds(ms), detail);

    [Fact]
    public void History_Empty_SnapshotIsEmpty()
    {
        var history = new ProbeHistory();

        Assert.Empty(history.Snapshot());
        Assert.Equal(ProbeHistory.DefaultCapacity, history.Capacity);
    }

    [Fact]
    public void History_MoreChecksThanCapacity_KeepsTheNewestOldestFirst()
    {
        var history = new ProbeHistory(capacity: 5);

        for (int i = 0; i < 12; i++) history.Add(s_t0.AddSeconds(i), Ok(ms: i));

        ProbeCheckEntry[] kept = history.Snapshot();
        Assert.Equal(5, history.Count);
        Assert.Equal([7, 8, 9, 10, 11], kept.Select(e => (int)e.Latency.TotalMilliseconds));
        Assert.Equal([.. Enumerable.Range(7, 5).Select(i => s_t0.AddSeconds(i))], kept.Select(e => e.At));
    }

    [Fact]
    public void History_ExactlyFull_KeepsAllInOrder()
    {
        var history = new ProbeHistory(capacity: 3);

        history.Add(s_t0, Ok());
        history.Add(s_t0.AddSeconds(1), Bad());
        history.Add(s_t0.AddSeconds(2), Ok());

        Assert.Equal([true, false, true], history.Snapshot().Select(e => e.Success));
    }

    [Fact]
    public void History_FailureDetail_AlwaysKept_RepeatedSuccessDetailDropped()
    {
        var history = new ProbeHistory();

        history.Add(s_t0, Ok());
        history.Add(s_t0.AddSeconds(1), Ok());
        history.Add(s_t0.AddSeconds(2), Bad());
        history.Add(s_t0.AddSeconds(3), Bad());
        history.Add(s_t0.AddSeconds(4), Ok());
        history.Add(s_t0.AddSeconds(5), Ok("HTTP 204"));
        history.Add(s_t0.AddSeconds(6), Ok("HTTP 204"));

        Assert.Equal(["HTTP 200", null, "HTTP 503", "HTTP 503", "HTTP 200", "HTTP 204", null], history.Snapshot().Select(e => e.Detail));
    }

    [Fact]
    public void History_DetailComparedWithTheCheckBefore_EvenWhenThatOneWasDropped()
    {
        // Capacity 1: the entry that held "HTTP 200" is gone, but the next identical success still says nothing new.
        var history = new ProbeHistory(capacity: 1);

        history.Add(s_t0, Ok());
        history.Add(s_t0.AddSeconds(1), Ok());

        Assert.Null(Assert.Single(history.Snapshot()).Detail);
    }

    [Fact]
    public void History_ZeroCapacity_Rejected() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new ProbeHistory(capacity: 0));
}
