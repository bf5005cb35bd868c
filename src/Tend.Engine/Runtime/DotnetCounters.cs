namespace Tend.Runtime;

/// <summary>
/// What a .NET instance's runtime last reported about itself (EventCounters of the
/// <c>System.Runtime</c> event source). Gauges are the last interval's value; the collection,
/// allocation, contention and exception totals are summed over the intervals Tend has watched in
/// this run (the runtime reports each interval's increment), so they only ever grow within a run.
/// </summary>
public sealed record DotnetCounters(
    DateTimeOffset SampledAt,
    long GcHeapBytes,
    long Gen0Collections,
    long Gen1Collections,
    long Gen2Collections,
    double AllocationRateBytesPerSecond,
    long AllocatedBytes,
    double TimeInGcPercent,
    long ThreadPoolThreads,
    long ThreadPoolQueueLength,
    long LockContentions,
    long Exceptions,
    long WorkingSetBytes);
