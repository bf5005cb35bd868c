using Tend.Api;
using Tend.Supervision;

namespace Tend.Tests.Supervision;

public sealed class ResourceHistoryTests
{
    private static readonly DateTimeOffset s_start = new(2026, 1, 1, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Add_SamplesInOneBucket_AveragedIntoOnePointAtTheBucketStart()
    {
        var history = new ResourceHistory();
        history.Add(s_start.AddSeconds(1), 10, 100, 1);
        history.Add(s_start.AddSeconds(2), 30, 300, 2);

        ResourceSample point = Assert.Single(history.Snapshot());
        Assert.Equal(s_start, point.Time);
        Assert.Equal(20, point.CpuPercent);
        Assert.Equal(200, point.MemoryBytes);
        Assert.Equal(2, point.Instances);
    }

    [Fact]
    public void Add_SkippedBuckets_LeaveGapsNotZeros()
    {
        var history = new ResourceHistory();
        history.Add(s_start, 50, 1000, 1);
        history.Add(s_start.AddSeconds(60), 5, 10, 1);

        IReadOnlyList<ResourceSample> points = history.Snapshot();
        Assert.Equal([s_start, s_start.AddSeconds(60)], points.Select(p => p.Time));
        Assert.Equal([50.0, 5.0], points.Select(p => p.CpuPercent));
    }

    [Fact]
    public void Add_APassStandingForASpan_FillsTheBucketsWithNoPassOfTheirOwn()
    {
        var history = new ResourceHistory();
        history.Add(s_start.AddSeconds(1), 10, 100, 1);
        history.Add(s_start.AddSeconds(16), 40, 400, 2, since: s_start.AddSeconds(1));

        IReadOnlyList<ResourceSample> points = history.Snapshot();
        Assert.Equal([0, 5, 10, 15], points.Select(p => (p.Time - s_start).TotalSeconds));
        Assert.Equal([10.0, 40.0, 40.0, 40.0], points.Select(p => p.CpuPercent));
        Assert.Equal([100L, 400L, 400L, 400L], points.Select(p => p.MemoryBytes));
    }

    [Fact]
    public void Add_ASpanLongerThanTheRing_KeepsOnlyTheNewestPointsInOrder()
    {
        var history = new ResourceHistory();
        history.Add(s_start, 10, 100, 1);
        history.Add(s_start.AddDays(1), 20, 200, 1, since: s_start);

        IReadOnlyList<ResourceSample> points = history.Snapshot();
        Assert.Equal(ResourceHistory.Capacity + 1, points.Count);
        Assert.All(points, p => Assert.Equal(20.0, p.CpuPercent));
        Assert.True(points.Zip(points.Skip(1)).All(p => p.Second.Time - p.First.Time == ResourceHistory.Resolution), "points not one bucket apart");
        Assert.Equal(s_start.AddDays(1), points[^1].Time);
    }

    [Fact]
    public void Add_MoreThanCapacity_KeepsTheNewestOldestFirst()
    {
        var history = new ResourceHistory();
        int buckets = ResourceHistory.Capacity * 3;
        for (int i = 0; i < buckets; i++) history.Add(s_start + ResourceHistory.Resolution * i, i, i, 1);

        IReadOnlyList<ResourceSample> points = history.Snapshot();
        // The full ring plus the bucket still filling.
        Assert.Equal(ResourceHistory.Capacity + 1, points.Count);
        Assert.Equal(buckets - 1, points[^1].CpuPercent);
        Assert.Equal(buckets - 1 - ResourceHistory.Capacity, points[0].CpuPercent);
        Assert.True(points.Zip(points.Skip(1)).All(p => p.First.Time < p.Second.Time), "points out of order");
    }
}
