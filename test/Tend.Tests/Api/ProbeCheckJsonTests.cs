using System.Text.Json;
using Tend.Api;

namespace Tend.Tests.Api;

public sealed class ProbeCheckJsonTests
{
    private static readonly DateTimeOffset s_at = new(2025, 3, 4, 5, 6, 7, TimeSpan.Zero);

    [Fact]
    public void ProbeCheck_WithoutDetail_LeavesItOut_AndReadsBack()
    {
        string json = JsonSerializer.Serialize(new ProbeCheck(s_at, true, 1.5), TendJsonContext.Default.ProbeCheck);

        Assert.Equal("""{"at":"2025-03-04T05:06:07+00:00","success":true,"latency_ms":1.5}""", json);
        Assert.Equal(new ProbeCheck(s_at, true, 1.5), JsonSerializer.Deserialize(json, TendJsonContext.Default.ProbeCheck));
    }

    [Fact]
    public void ProbeCheck_WithDetail_WritesIt()
    {
        string json = JsonSerializer.Serialize(new ProbeCheck(s_at, false, 2, "HTTP 503"), TendJsonContext.Default.ProbeCheck);

        Assert.Equal("""{"at":"2025-03-04T05:06:07+00:00","success":false,"latency_ms":2,"detail":"HTTP 503"}""", json);
    }

    [Fact]
    public void ProbeInfo_FromAnOlderDaemon_WithoutRecent_ReadsAsNull()
    {
        const string json = """
            {"role":"ready","check":"tcp 127.0.0.1:1","passing":true,"last_at":null,"last_success":null,"last_latency_ms":null,
             "last_detail":null,"consecutive_failures":0,"checks":0,"failures":0}
            """;

        ProbeInfo? probe = JsonSerializer.Deserialize<ProbeInfo>(json, TendJsonContext.Default.Options);

        Assert.NotNull(probe);
        Assert.Null(probe.Recent);
    }
}
