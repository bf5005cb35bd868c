using System.Buffers.Binary;
using System.Text;
using System.Text.Json;

namespace Tend.Pool.Worker;

/// <summary>
/// The channel's framing, for both ends: a frame is a 4-byte big-endian length, then that many bytes
/// of one UTF-8 JSON object with a <c>type</c> (docs/pool.md, "The protocol"). Bodies travel as raw
/// JSON inside the envelope, so a body is serialized once, by whoever owns its type.
/// </summary>
internal static class PoolFrames
{
    /// <summary>Frames above this are refused (a corrupt length must not allocate gigabytes).</summary>
    public const int MaxFrameBytes = 64 << 20;

    /// <summary>The variable that names the channel's descriptor in a worker's environment.</summary>
    public const string FdVariable = "TEND_POOL_FD";

    /// <summary>The worker's number within its pool (never reused by that pool).</summary>
    public const string WorkerVariable = "TEND_POOL_WORKER";

    /// <summary>Reads one frame's JSON, or null at a clean end of stream (between frames).</summary>
    public static async ValueTask<JsonDocument?> ReadAsync(Stream stream, CancellationToken ct)
    {
        byte[] header = new byte[4];
        int got = 0;
        while (got < 4)
        {
            int n = await stream.ReadAsync(header.AsMemory(got), ct).ConfigureAwait(false);
            if (n == 0)
            {
                if (got == 0) return null;
                throw new EndOfStreamException("the channel closed inside a frame header");
            }
            got += n;
        }
        uint length = BinaryPrimitives.ReadUInt32BigEndian(header);
        if (length > MaxFrameBytes) throw new InvalidDataException($"a frame of {length} bytes is above the limit of {MaxFrameBytes}");
        byte[] body = new byte[length];
        await stream.ReadExactlyAsync(body, ct).ConfigureAwait(false);
        return JsonDocument.Parse(body);
    }

    /// <summary>{"type":T,"id":N} with an optional raw JSON body or error object, as one frame.</summary>
    public static byte[] Envelope(string type, long? id, ReadOnlySpan<byte> body = default, string? errorType = null, string? errorMessage = null)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(64 + body.Length);
        buffer.Advance(4);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("type", type);
            if (id is long n) json.WriteNumber("id", n);
            if (!body.IsEmpty)
            {
                json.WritePropertyName("body");
                json.WriteRawValue(body, skipInputValidation: true);
            }
            if (errorType is not null)
            {
                json.WriteStartObject("error");
                json.WriteString("type", errorType);
                json.WriteString("message", errorMessage ?? "");
                json.WriteEndObject();
            }
            json.WriteEndObject();
        }
        byte[] frame = buffer.WrittenSpan.ToArray();
        BinaryPrimitives.WriteUInt32BigEndian(frame, (uint)(frame.Length - 4));
        return frame;
    }

    public static string TypeOf(JsonDocument message) =>
        message.RootElement.TryGetProperty("type", out JsonElement t) && t.ValueKind == JsonValueKind.String ? t.GetString()! : "";

    public static long IdOf(JsonDocument message) =>
        message.RootElement.TryGetProperty("id", out JsonElement id) && id.TryGetInt64(out long n) ? n : -1;

    public static string Describe(Exception e) => e.GetType().FullName ?? e.GetType().Name;

    public static string Utf8(ReadOnlySpan<byte> bytes) => Encoding.UTF8.GetString(bytes);
}
