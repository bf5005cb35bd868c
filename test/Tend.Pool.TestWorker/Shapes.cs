using System.Text.Json;
using System.Text.Json.Serialization;

namespace Tend.Pool.TestShapes;

// The task and answer of the test worker; the tests compile this same file (linked), so both
// ends agree by construction.

/// <summary>What to do: echo, sleep, crash, exit, freeze, spin, grow, throw, print or wait-cancel.</summary>
public sealed record Job(string Op, int Ms = 0, string? Text = null, int Bytes = 0);

public sealed record Answer(int Pid, string Version, string? Text, int Worker);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(Job))]
[JsonSerializable(typeof(Answer))]
public sealed partial class TestJson : JsonSerializerContext;
