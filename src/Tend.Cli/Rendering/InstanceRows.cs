using System.Text.Json;
using Tend.Api;

namespace Tend.Cli.Rendering;

/// <summary>
/// Reads `GET /v1/list` into <see cref="InstanceInfo"/> rows for the table with <see cref="Utf8JsonReader"/>
/// alone. The source-generated metadata of the same contract costs a native `tend list` about a third
/// of its CPU on first use (building the options and every property's converter and encoded name,
/// once per process, and every `tend` call is a new process); this reader costs next to nothing. It
/// reads the names TendJsonContext writes (snake_case), skips any it does not know, and a test
/// round-trips every field through the generated serializer, so the two cannot drift apart unnoticed.
/// </summary>
internal static class InstanceRows
{
    /// <exception cref="JsonException">The body is not a JSON array of instances.</exception>
    public static InstanceInfo[] Read(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartArray) throw new JsonException("expected an array of instances");
        var rows = new List<InstanceInfo>();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType != JsonTokenType.StartObject) throw new JsonException("expected an instance object");
            rows.Add(ReadOne(ref reader));
        }
        return [.. rows];
    }

    private static InstanceInfo ReadOne(ref Utf8JsonReader reader)
    {
        int id = 0, instance = 0, restarts = 0;
        int? pid = null, exitCode = null;
        string name = "", status = "";
        string? exitSignal = null, statusText = null, statusReason = null;
        bool ready = false;
        long uptimeMs = 0, memoryBytes = 0;
        double cpu = 0;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            if (reader.TokenType != JsonTokenType.PropertyName) throw new JsonException("expected a property name");
            string property = reader.GetString()!;
            reader.Read();
            bool isNull = reader.TokenType == JsonTokenType.Null;
            switch (property)
            {
                case "id": id = reader.GetInt32(); break;
                case "name": name = reader.GetString() ?? ""; break;
                case "instance": instance = reader.GetInt32(); break;
                case "pid": pid = isNull ? null : reader.GetInt32(); break;
                case "status": status = reader.GetString() ?? ""; break;
                case "ready": ready = reader.GetBoolean(); break;
                case "restarts": restarts = reader.GetInt32(); break;
                case "uptime_ms": uptimeMs = reader.GetInt64(); break;
                case "cpu_percent": cpu = reader.GetDouble(); break;
                case "memory_bytes": memoryBytes = reader.GetInt64(); break;
                case "exit_code": exitCode = isNull ? null : reader.GetInt32(); break;
                case "exit_signal": exitSignal = isNull ? null : reader.GetString(); break;
                case "status_text": statusText = isNull ? null : reader.GetString(); break;
                case "status_reason": statusReason = isNull ? null : reader.GetString(); break;
                default: reader.Skip(); break; // a field a newer daemon added
            }
        }
        return new InstanceInfo(id, name, instance, pid, status, ready, restarts, uptimeMs, cpu, memoryBytes, exitCode, exitSignal, statusText, statusReason);
    }
}
