using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Tend.Cli;

/// <summary>
/// Reads a following NDJSON stream from the daemon (logs, events) until it ends or Ctrl-C, handing
/// each item and its raw line to <c>onItem</c>. Ctrl-C is success; a stream the daemon cuts
/// (tend kill, a crash) or a line this tend cannot read is a clear error, never a stack trace.
/// </summary>
internal static class NdjsonStream
{
    /// <param name="item">"log line" or "event"; <paramref name="stream"/> "log" or "event": for the messages.</param>
    public static async Task FollowAsync<T>(
        DaemonClient client, string path, JsonTypeInfo<T> type, string item, string stream, Action<string, T> onItem, CancellationToken ct)
    {
        try
        {
            using DaemonResponse response = await client.GetStreamingAsync(path, ct).ConfigureAwait(false);
            using var reader = new StreamReader(response.Body, Encoding.UTF8);
            while (await reader.ReadLineAsync(ct).ConfigureAwait(false) is { } line)
            {
                if (line.Length == 0) continue;
                T? value;
                try
                {
                    value = JsonSerializer.Deserialize(line, type);
                }
                catch (JsonException ex)
                {
                    throw new CliException($"the daemon sent {(item[0] is 'e' ? "an" : "a")} {item} this tend cannot read", 1, [ex.Message, line], ex);
                }
                if (value is not null) onItem(line, value);
            }
        }
        catch (Exception ex) when (ct.IsCancellationRequested && ex is OperationCanceledException or IOException or ObjectDisposedException)
        {
            // Ctrl-C: following ends here, and that is success.
        }
        catch (IOException ex)
        {
            throw new CliException($"the {stream} stream ended unexpectedly: the daemon closed the connection", 1, [ex.Message], ex);
        }
    }
}
