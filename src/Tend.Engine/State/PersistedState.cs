using System.Text.Json;
using System.Text.Json.Serialization;
using Tend.Config;

namespace Tend.State;

/// <summary>
/// One instance as the state file records it: whether it should run, and the live child if any. With
/// the child, what a daemon adopting it carries over (docs/upgrade.md): its restart count, whether it
/// was ready, since when it runs, and (listen_mode: proxy) the loopback port it listens on. Null in
/// files written before they were kept, and in dumps.
/// </summary>
public sealed record PersistedInstance(int Id, int Instance, bool WantedRunning, int? Pid, ulong? StartTime,
    int? Restarts = null, bool? Ready = null, DateTimeOffset? StartedAt = null, int? ProxyPort = null);

public sealed record PersistedApp(AppSpec Spec, string? ConfigPath, IReadOnlyList<PersistedInstance> Instances);

/// <summary>
/// One supervisor's status as the state file records it: running, stopped (by the user or an
/// auto_shutdown) or failed (its intensity was exceeded), with the reason <c>tend tree</c> shows.
/// </summary>
public sealed record PersistedSupervisor(string Name, string Status, string? Reason);

/// <summary>
/// The declared state: what `state.json` holds after every change, and what `save` dumps.
/// Apps are in start order; that order is also the reverse of stop order.
/// </summary>
/// <remarks>
/// <see cref="Tree"/>: the running supervision tree's supervisors, root first; null when there is none.
/// <see cref="TreeStatus"/>: each of those supervisors' status. Files written before it existed
/// lack it (same version: it is optional), and every supervisor then comes back running.
/// </remarks>
public sealed record PersistedState(
    int Version, int NextId, IReadOnlyList<PersistedApp> Apps, IReadOnlyList<SupervisorSpec>? Tree = null,
    IReadOnlyList<PersistedSupervisor>? TreeStatus = null)
{
    public const int CurrentVersion = 1;
    public static PersistedState Empty { get; } = new(CurrentVersion, 0, []);
}

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    WriteIndented = true,
    UseStringEnumConverter = true,
    Converters = [typeof(StringArrayConverter), typeof(IntArrayConverter), typeof(UIntArrayConverter), typeof(ResourceLimitArrayConverter),
        typeof(EnvConverter), typeof(DependencyArrayConverter), typeof(ChildRefArrayConverter)])]
[JsonSerializable(typeof(PersistedState))]
internal sealed partial class StateJsonContext : JsonSerializerContext;

internal sealed class StringArrayConverter : JsonConverter<EquatableArray<string>>
{
    public override EquatableArray<string> Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        var items = new List<string>();
        if (reader.TokenType != JsonTokenType.StartArray) throw new JsonException("expected an array of strings");
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            items.Add(reader.GetString() ?? throw new JsonException("null in an array of strings"));
        return new EquatableArray<string>(items);
    }

    public override void Write(Utf8JsonWriter writer, EquatableArray<string> value, JsonSerializerOptions options)
    {
        writer.WriteStartArray();
        foreach (string s in value) writer.WriteStringValue(s);
        writer.WriteEndArray();
    }
}

internal sealed class IntArrayConverter : JsonConverter<EquatableArray<int>>
{
    public override EquatableArray<int> Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        var items = new List<int>();
        if (reader.TokenType != JsonTokenType.StartArray) throw new JsonException("expected an array of numbers");
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray) items.Add(reader.GetInt32());
        return new EquatableArray<int>(items);
    }

    public override void Write(Utf8JsonWriter writer, EquatableArray<int> value, JsonSerializerOptions options)
    {
        writer.WriteStartArray();
        foreach (int i in value) writer.WriteNumberValue(i);
        writer.WriteEndArray();
    }
}

/// <summary>Group ids.</summary>
internal sealed class UIntArrayConverter : JsonConverter<EquatableArray<uint>>
{
    public override EquatableArray<uint> Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        var items = new List<uint>();
        if (reader.TokenType != JsonTokenType.StartArray) throw new JsonException("expected an array of numbers");
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray) items.Add(reader.GetUInt32());
        return new EquatableArray<uint>(items);
    }

    public override void Write(Utf8JsonWriter writer, EquatableArray<uint> value, JsonSerializerOptions options)
    {
        writer.WriteStartArray();
        foreach (uint i in value) writer.WriteNumberValue(i);
        writer.WriteEndArray();
    }
}

/// <summary>limits: as [{"name": "nofile", "soft": 1024, "hard": 4096}] (infinity is 18446744073709551615, RLIM_INFINITY).</summary>
internal sealed class ResourceLimitArrayConverter : JsonConverter<EquatableArray<Isolation.ResourceLimit>>
{
    public override EquatableArray<Isolation.ResourceLimit> Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        var items = new List<Isolation.ResourceLimit>();
        if (reader.TokenType != JsonTokenType.StartArray) throw new JsonException("expected an array of limits");
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType != JsonTokenType.StartObject) throw new JsonException("expected a limit object");
            string? name = null;
            ulong soft = 0, hard = 0;
            while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
            {
                string? key = reader.GetString();
                reader.Read();
                switch (key)
                {
                    case "name": name = reader.GetString(); break;
                    case "soft": soft = reader.GetUInt64(); break;
                    case "hard": hard = reader.GetUInt64(); break;
                }
            }
            items.Add(new Isolation.ResourceLimit(name ?? throw new JsonException("a limit without a name"), soft, hard));
        }
        return new EquatableArray<Isolation.ResourceLimit>(items);
    }

    public override void Write(Utf8JsonWriter writer, EquatableArray<Isolation.ResourceLimit> value, JsonSerializerOptions options)
    {
        writer.WriteStartArray();
        foreach (Isolation.ResourceLimit l in value)
        {
            writer.WriteStartObject();
            writer.WriteString("name", l.Name);
            writer.WriteNumber("soft", l.Soft);
            writer.WriteNumber("hard", l.Hard);
            writer.WriteEndObject();
        }
        writer.WriteEndArray();
    }
}

/// <summary>A supervisor's children as [{"kind": "app", "name": "db"}].</summary>
internal sealed class ChildRefArrayConverter : JsonConverter<EquatableArray<ChildRef>>
{
    public override EquatableArray<ChildRef> Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        var items = new List<ChildRef>();
        if (reader.TokenType != JsonTokenType.StartArray) throw new JsonException("expected an array of children");
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType != JsonTokenType.StartObject) throw new JsonException("expected a child object");
            string? name = null;
            ChildKind kind = ChildKind.App;
            while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
            {
                string? key = reader.GetString();
                reader.Read();
                if (key == "name") name = reader.GetString();
                else if (key == "kind" && !Enum.TryParse(reader.GetString(), ignoreCase: true, out kind))
                    throw new JsonException("unknown child kind");
            }
            items.Add(new ChildRef(kind, name ?? throw new JsonException("a child without name")));
        }
        return new EquatableArray<ChildRef>(items);
    }

    public override void Write(Utf8JsonWriter writer, EquatableArray<ChildRef> value, JsonSerializerOptions options)
    {
        writer.WriteStartArray();
        foreach (ChildRef c in value)
        {
            writer.WriteStartObject();
            writer.WriteString("kind", c.Kind.ToString().ToLowerInvariant());
            writer.WriteString("name", c.Name);
            writer.WriteEndObject();
        }
        writer.WriteEndArray();
    }
}

/// <summary>depends_on as [{"app": "db", "condition": "ready"}].</summary>
internal sealed class DependencyArrayConverter : JsonConverter<EquatableArray<Dependency>>
{
    public override EquatableArray<Dependency> Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        var items = new List<Dependency>();
        if (reader.TokenType != JsonTokenType.StartArray) throw new JsonException("expected an array of dependencies");
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType != JsonTokenType.StartObject) throw new JsonException("expected a dependency object");
            string? app = null;
            DependencyCondition condition = DependencyCondition.Started;
            WhileDown whileDown = WhileDown.Ignore;
            while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
            {
                string? name = reader.GetString();
                reader.Read();
                if (name == "app") app = reader.GetString();
                else if (name == "condition" && !Enum.TryParse(reader.GetString(), ignoreCase: true, out condition))
                    throw new JsonException("unknown dependency condition");
                else if (name == "while_down" && !Enum.TryParse(reader.GetString(), ignoreCase: true, out whileDown))
                    throw new JsonException("unknown while_down");
            }
            items.Add(new Dependency(app ?? throw new JsonException("a dependency without app"), condition) { WhileDown = whileDown });
        }
        return new EquatableArray<Dependency>(items);
    }

    public override void Write(Utf8JsonWriter writer, EquatableArray<Dependency> value, JsonSerializerOptions options)
    {
        writer.WriteStartArray();
        foreach (Dependency d in value)
        {
            writer.WriteStartObject();
            writer.WriteString("app", d.App);
            writer.WriteString("condition", d.Condition.ToString().ToLowerInvariant());
            if (d.WhileDown != WhileDown.Ignore) writer.WriteString("while_down", d.WhileDown.ToString().ToLowerInvariant());
            writer.WriteEndObject();
        }
        writer.WriteEndArray();
    }
}

internal sealed class EnvConverter : JsonConverter<EquatableDictionary>
{
    public override EquatableDictionary Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        var items = new List<KeyValuePair<string, string>>();
        if (reader.TokenType != JsonTokenType.StartObject) throw new JsonException("expected an object of strings");
        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            string key = reader.GetString()!;
            reader.Read();
            items.Add(new(key, reader.GetString() ?? ""));
        }
        return new EquatableDictionary(items);
    }

    public override void Write(Utf8JsonWriter writer, EquatableDictionary value, JsonSerializerOptions options)
    {
        writer.WriteStartObject();
        foreach (var (k, v) in value) writer.WriteString(k, v);
        writer.WriteEndObject();
    }
}
