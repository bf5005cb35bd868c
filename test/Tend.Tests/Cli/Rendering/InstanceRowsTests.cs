using System.Text;
using System.Text.Json;
using Tend.Api;
using Tend.Cli.Rendering;

namespace Tend.Tests.Cli.Rendering;

/// <summary>The table's reader of `GET /v1/list` against what the daemon's generated serializer writes.</summary>
public sealed class InstanceRowsTests
{
    private static readonly InstanceInfo[] s_rows =
    [
        // Every field set to something other than its default, so a field the reader misses (one added
        // to the contract later, say) fails the comparison.
        new(7, "web", 2, 4242, "online", true, 3, 86_400_123, 12.5, 1_234_567_890_123, 137, "SIGKILL", "serving 3 \"clients\" ✓", "held: db"),
        new(8, "worker", 0, null, "stopped", false, 0, 0, 0, 0, null, null, null, null),
    ];

    [Fact]
    public void Read_WhatTheGeneratedSerializerWrites_GivesBackEqualRows()
    {
        byte[] json = JsonSerializer.SerializeToUtf8Bytes(s_rows, TendJsonContext.Default.InstanceInfoArray);

        Assert.Equal(s_rows, InstanceRows.Read(json));
    }

    [Fact]
    public void Read_EveryParameterOfTheContract_EvenOnesAddedLater_SurvivesTheTrip()
    {
        // Each constructor parameter gets a value of its type that is not the default, by reflection,
        // so a field added to InstanceInfo and not to the reader fails here.
        var parameters = typeof(InstanceInfo).GetConstructors().Single().GetParameters();
        object?[] values = [.. parameters.Select(NonDefault)];
        var row = (InstanceInfo)typeof(InstanceInfo).GetConstructors().Single().Invoke(values);

        Assert.Equal([row], InstanceRows.Read(JsonSerializer.SerializeToUtf8Bytes(new[] { row }, TendJsonContext.Default.InstanceInfoArray)));
    }

    private static object NonDefault(System.Reflection.ParameterInfo p, int i)
    {
        Type t = Nullable.GetUnderlyingType(p.ParameterType) ?? p.ParameterType;
        if (t == typeof(int)) return 100 + i;
        if (t == typeof(long)) return 10_000_000_000L + i;
        if (t == typeof(double)) return 0.25 + i;
        if (t == typeof(bool)) return true;
        if (t == typeof(string)) return $"text {i} é\n";
        throw new InvalidOperationException($"InstanceRowsTests: teach this test a value of {t} for {p.Name}");
    }

    [Fact]
    public void Read_UnknownFieldsOfANewerDaemon_AreSkipped_AndGarbageIsAnError()
    {
        string json = """[{"id":1,"name":"a","instance":0,"pid":10,"status":"online","ready":true,"restarts":0,"uptime_ms":5,"cpu_percent":0.5,"memory_bytes":9,"exit_code":null,"exit_signal":null,"added_later":{"x":[1,2]}}]""";

        InstanceInfo row = Assert.Single(InstanceRows.Read(Encoding.UTF8.GetBytes(json)));

        Assert.Equal(new InstanceInfo(1, "a", 0, 10, "online", true, 0, 5, 0.5, 9, null, null), row);
        Assert.Throws<JsonException>(() => InstanceRows.Read("{\"id\":1}"u8));
        Assert.ThrowsAny<Exception>(() => InstanceRows.Read("[{\"id\":\"one\"}]"u8));
    }
}
