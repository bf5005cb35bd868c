using Tend.Runtime;

namespace Tend.Tests.Runtime;

/// <summary>
/// The nettrace reader on a stream captured from a real runtime: testchild --churn with the
/// System.Runtime counters at a one-second interval, stopped after about three seconds
/// (Fixtures/counters.nettrace, 14 KB).
/// </summary>
public sealed class NettraceReaderTests
{
    private static readonly TimeSpan s_limit = TimeSpan.FromSeconds(30);
    private static byte[] Fixture => File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Runtime", "Fixtures", "counters.nettrace"));

    private static async Task<List<(NettraceReader.EventMetadata Meta, Dictionary<string, object> Payload)>> ReadAllAsync(byte[] bytes)
    {
        var events = new List<(NettraceReader.EventMetadata, Dictionary<string, object>)>();
        var reader = new NettraceReader(new MemoryStream(bytes), (m, p) => events.Add((m, p)), m => m.Name == "EventCounters");
        await reader.ReadAsync(CancellationToken.None).WaitAsync(s_limit);
        return events;
    }

    [Fact]
    public async Task ReadAsync_CapturedCounterSession_DecodesEveryCounterPayload()
    {
        var events = await ReadAllAsync(Fixture);

        Assert.NotEmpty(events);
        Assert.All(events, e => Assert.Equal("System.Runtime", e.Meta.Provider));
        var byName = events.GroupBy(e => (string)e.Payload["Name"]).ToDictionary(g => g.Key, g => g.Select(e => e.Payload).ToList());
        // A polling counter: Mean and its statistics; the runtime's sizes are in "MB".
        Dictionary<string, object> heap = byName["gc-heap-size"][0];
        Assert.True((double)heap["Mean"] > 0);
        Assert.Equal("Mean", heap["CounterType"]);
        Assert.Equal(1f, (float)heap["IntervalSec"], 0.5f);
        // Incrementing counters: Increment per interval.
        Assert.Equal("Sum", byName["exception-count"][0]["CounterType"]);
        Assert.True(byName["exception-count"].Sum(p => (double)p["Increment"]) > 0);
        Assert.True(byName["alloc-rate"].Sum(p => (double)p["Increment"]) > 0);
        Assert.Contains("gen-0-gc-count", byName.Keys);
        Assert.Contains("threadpool-thread-count", byName.Keys);
        Assert.Contains("monitor-lock-contention-count", byName.Keys);
    }

    [Fact]
    public async Task ReadAsync_CapturedCounterSession_FeedsThePlausibleSnapshot()
    {
        var acc = new DotnetCounterAccumulator();
        foreach (var (_, payload) in await ReadAllAsync(Fixture)) acc.Apply(payload);

        DotnetCounters c = acc.Snapshot(DateTimeOffset.UnixEpoch);
        Assert.True(c.GcHeapBytes > 0);
        Assert.True(c.WorkingSetBytes > c.GcHeapBytes);
        Assert.True(c.Gen0Collections > 0);
        Assert.True(c.AllocatedBytes > 0);
        Assert.True(c.Exceptions > 0);
        Assert.True(c.LockContentions > 0);
    }

    [Fact]
    public async Task ReadAsync_UnwantedEvents_AreNotDecoded()
    {
        var events = new List<string>();
        var reader = new NettraceReader(new MemoryStream(Fixture), (m, _) => events.Add(m.Name), _ => false);

        await reader.ReadAsync(CancellationToken.None).WaitAsync(s_limit);

        Assert.Empty(events);
    }

    [Fact]
    public async Task ReadAsync_StreamCutInsideABlock_ThrowsEndOfStream()
    {
        byte[] cut = Fixture[..(Fixture.Length / 2)];

        await Assert.ThrowsAsync<EndOfStreamException>(() => ReadAllAsync(cut));
    }

    [Fact]
    public async Task ReadAsync_NotANettraceStream_ThrowsInvalidData()
    {
        byte[] garbage = "Nottrace and then some more bytes"u8.ToArray();

        await Assert.ThrowsAsync<InvalidDataException>(() => ReadAllAsync(garbage));
    }
}
