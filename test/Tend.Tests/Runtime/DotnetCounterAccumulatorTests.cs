using Tend.Runtime;

namespace Tend.Tests.Runtime;

/// <summary>
/// The payloads below have the shape the runtime's System.Runtime event source writes (the fields
/// TraceEvent hands over for one EventCounters event): Name plus Mean for a polling counter,
/// Name plus Increment and IntervalSec for an incrementing one.
/// </summary>
public sealed class DotnetCounterAccumulatorTests
{
    private static readonly DateTimeOffset s_at = new(2026, 11, 21, 18, 0, 0, TimeSpan.Zero);

    private static Dictionary<string, object> Mean(string name, double mean) => new()
    {
        ["Name"] = name, ["DisplayName"] = name, ["Mean"] = mean, ["StandardDeviation"] = 0.0, ["Count"] = 1,
        ["Min"] = mean, ["Max"] = mean, ["IntervalSec"] = 5.0f, ["Series"] = "Interval=5000", ["CounterType"] = "Mean", ["Metadata"] = "", ["DisplayUnits"] = "",
    };

    private static Dictionary<string, object> Increment(string name, double increment, double intervalSec = 5) => new()
    {
        ["Name"] = name, ["DisplayName"] = name, ["DisplayRateTimeScale"] = "00:00:01", ["Increment"] = increment,
        ["IntervalSec"] = (float)intervalSec, ["Series"] = "Interval=5000", ["CounterType"] = "Sum", ["Metadata"] = "", ["DisplayUnits"] = "",
    };

    [Fact]
    public void Apply_PollingCounters_AreTheLastValue_SizesInRuntimeMegabytes()
    {
        var acc = new DotnetCounterAccumulator();

        Assert.True(acc.Apply(Mean("gc-heap-size", 3)));
        Assert.True(acc.Apply(Mean("gc-heap-size", 12.5)));
        Assert.True(acc.Apply(Mean("working-set", 40)));
        Assert.True(acc.Apply(Mean("time-in-gc", 1.25)));
        Assert.True(acc.Apply(Mean("threadpool-thread-count", 4)));
        Assert.True(acc.Apply(Mean("threadpool-queue-length", 2)));

        DotnetCounters c = acc.Snapshot(s_at);
        // The runtime divides by 1,000,000 for its "MB": multiplied back, not by 1,048,576.
        Assert.Equal(12_500_000, c.GcHeapBytes);
        Assert.Equal(40_000_000, c.WorkingSetBytes);
        Assert.Equal(1.25, c.TimeInGcPercent);
        Assert.Equal(4, c.ThreadPoolThreads);
        Assert.Equal(2, c.ThreadPoolQueueLength);
        Assert.Equal(s_at, c.SampledAt);
    }

    [Fact]
    public void Apply_IncrementingCounters_AreSummedIntoTotals()
    {
        var acc = new DotnetCounterAccumulator();

        acc.Apply(Increment("gen-0-gc-count", 3));
        acc.Apply(Increment("gen-0-gc-count", 2));
        acc.Apply(Increment("gen-1-gc-count", 1));
        acc.Apply(Increment("gen-2-gc-count", 0));
        acc.Apply(Increment("exception-count", 7));
        acc.Apply(Increment("exception-count", 1));
        acc.Apply(Increment("monitor-lock-contention-count", 4));

        DotnetCounters c = acc.Snapshot(s_at);
        Assert.Equal(5, c.Gen0Collections);
        Assert.Equal(1, c.Gen1Collections);
        Assert.Equal(0, c.Gen2Collections);
        Assert.Equal(8, c.Exceptions);
        Assert.Equal(4, c.LockContentions);
    }

    [Fact]
    public void Apply_AllocRate_GivesBytesPerSecondOfTheLastIntervalAndATotal()
    {
        var acc = new DotnetCounterAccumulator();

        acc.Apply(Increment("alloc-rate", 10_000_000, intervalSec: 5));
        acc.Apply(Increment("alloc-rate", 1_000_000, intervalSec: 2));

        DotnetCounters c = acc.Snapshot(s_at);
        Assert.Equal(11_000_000, c.AllocatedBytes);
        Assert.Equal(500_000, c.AllocationRateBytesPerSecond);
    }

    [Fact]
    public void Apply_UnknownOrMalformedPayloads_AreIgnoredWithoutThrowing()
    {
        var acc = new DotnetCounterAccumulator();

        Assert.False(acc.Apply(Mean("cpu-usage", 12)));              // a counter Tend does not show
        Assert.False(acc.Apply(new Dictionary<string, object>()));  // no name
        Assert.False(acc.Apply(new Dictionary<string, object> { ["Name"] = 42 }));
        Assert.False(acc.Apply(Increment("gc-heap-size", 5)));       // a gauge must come with Mean
        Assert.False(acc.Apply(new Dictionary<string, object> { ["Name"] = "gc-heap-size", ["Mean"] = "many" }));
        Assert.False(acc.Apply(Mean("gc-heap-size", double.NaN)));
        Assert.False(acc.HasData);

        Assert.True(acc.Apply(Increment("exception-count", -3)));
        Assert.True(acc.Apply(Mean("time-in-gc", 250)));
        DotnetCounters c = acc.Snapshot(s_at);
        Assert.Equal(0, c.GcHeapBytes);
        Assert.Equal(0, c.Exceptions);
        Assert.Equal(100, c.TimeInGcPercent);
    }
}
