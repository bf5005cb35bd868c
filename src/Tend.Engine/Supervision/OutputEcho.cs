using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Tend.Logs;

namespace Tend.Supervision;

/// <summary>How `tend run` copies its apps' output to its own stdout and stderr (a container's log).</summary>
public enum OutputEcho
{
    /// <summary>Not copied (the daemon: output goes to the log files only).</summary>
    Off,

    /// <summary><c>web#0 | the line</c>: for people reading a terminal or `docker logs`.</summary>
    Prefixed,

    /// <summary>One JSON object per line, for log collectors (Kubernetes' fluent-bit, Loki, CloudWatch).</summary>
    JsonLines,
}

/// <summary>One app line as a JSON object: <c>{"time":…,"app":"web","instance":0,"stream":"stdout","line":"…"}</c>.</summary>
internal static class OutputEchoJson
{
    public static string Line(LogLine line)
    {
        var buffer = new ArrayBufferWriter<byte>(128 + line.Text.Length);
        // Relaxed escaping: an app's non-ASCII text and its < > & stay readable in the collector.
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            json.WriteString("time", (line.Time ?? DateTimeOffset.UtcNow).ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture));
            json.WriteString("app", line.App);
            json.WriteNumber("instance", line.Instance);
            json.WriteString("stream", line.Stream == LogStream.Err ? "stderr" : "stdout");
            json.WriteString("line", line.Text);
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }
}
