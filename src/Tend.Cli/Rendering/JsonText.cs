using System.Buffers;
using System.Text.Json;

namespace Tend.Cli.Rendering;

/// <summary>JSON the CLI writes itself (a filtered or indented list, a list setting): text as a person reads it, non-ASCII kept.</summary>
internal static class JsonText
{
    public static string Build(Action<Utf8JsonWriter> write, bool indented = false)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = indented, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
            write(writer);
        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }
}
