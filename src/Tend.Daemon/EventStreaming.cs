using System.Globalization;
using System.Text;
using System.Text.Json;
using Tend.Api;
using Tend.Events;
using Tend.Supervision;

namespace Tend.Daemon;

/// <summary>
/// The lifecycle events of <see cref="EventHub"/> over HTTP, two ways:
/// <list type="bullet">
/// <item>GET /events: server-sent events for browsers and `curl -N`. Each event is
/// <c>id: SEQ / event: TYPE / data: JSON</c>; a reconnecting EventSource sends Last-Event-ID and
/// gets exactly what it missed while that is still buffered. A comment every 15 s keeps proxies
/// and idle timeouts from closing a quiet stream.</item>
/// <item>GET /v1/events: NDJSON, for the CLI's hand-written HTTP/1.0 client (the same shape as
/// /v1/logs); follow=false returns the buffer and ends.</item>
/// </list>
/// Both end when the client goes away or the daemon shuts down.
/// </summary>
internal static class EventStreaming
{
    private static readonly TimeSpan s_keepAlive = TimeSpan.FromSeconds(15);
    private static readonly byte[] s_newline = "\n"u8.ToArray();
    private static readonly byte[] s_keepAliveFrame = ": keep-alive\n\n"u8.ToArray();

    public static async Task StreamSseAsync(HttpContext context, Supervisor supervisor, IHostApplicationLifetime lifetime, string? after)
    {
        long? from = ParseAfter(after ?? context.Request.Headers["Last-Event-ID"].FirstOrDefault());
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, lifetime.ApplicationStopping);
        CancellationToken ct = stop.Token;

        context.Response.ContentType = "text/event-stream";
        context.Response.Headers.CacheControl = "no-cache";
        context.Response.Headers["X-Accel-Buffering"] = "no";
        Stream body = context.Response.Body;
        // Headers out now: an EventSource reports "open" only once it has them.
        await body.FlushAsync(ct);

        try
        {
            await using IAsyncEnumerator<Tend.Events.LifecycleEvent> events = supervisor.Events.SubscribeAsync(from, ct).GetAsyncEnumerator(ct);
            Task<bool> next = events.MoveNextAsync().AsTask();
            Task keepAlive = Task.Delay(s_keepAlive, ct);
            while (true)
            {
                if (await Task.WhenAny(next, keepAlive) != next)
                {
                    ct.ThrowIfCancellationRequested();
                    await body.WriteAsync(s_keepAliveFrame, ct);
                    await body.FlushAsync(ct);
                    keepAlive = Task.Delay(s_keepAlive, ct);
                    continue;
                }
                if (!await next) break;
                await body.WriteAsync(SseFrame(events.Current), ct);
                // Several events ready at once (a replay, a burst) go out in one flush.
                next = events.MoveNextAsync().AsTask();
                if (!next.IsCompleted) await body.FlushAsync(ct);
            }
        }
        catch (OperationCanceledException) { }
        catch (IOException) { } // the client went away
    }

    public static async Task StreamNdjsonAsync(HttpContext context, Supervisor supervisor, IHostApplicationLifetime lifetime, string? after, bool? follow)
    {
        // after=latest: only what happens from now on (a waiter that reads the state itself).
        long? from = after == "latest" ? supervisor.Events.LastSequence : ParseAfter(after);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, lifetime.ApplicationStopping);
        CancellationToken ct = stop.Token;
        context.Response.ContentType = "application/x-ndjson";
        context.Response.Headers.CacheControl = "no-cache";
        Stream body = context.Response.Body;
        try
        {
            if (follow != true)
            {
                foreach (Tend.Events.LifecycleEvent e in supervisor.Events.Snapshot(from)) await WriteLineAsync(body, e, ct);
                await body.FlushAsync(ct);
                return;
            }
            // Subscribed (the first MoveNextAsync registers it) before the headers go out: a client that
            // waits for them, then reads state (`tend start --wait-ready`), misses no event in between.
            await using IAsyncEnumerator<Tend.Events.LifecycleEvent> events = supervisor.Events.SubscribeAsync(from, ct).GetAsyncEnumerator(ct);
            ValueTask<bool> next = events.MoveNextAsync();
            await body.FlushAsync(ct);
            while (await next)
            {
                await WriteLineAsync(body, events.Current, ct);
                next = events.MoveNextAsync();
                if (!next.IsCompleted) await body.FlushAsync(ct);
            }
        }
        catch (OperationCanceledException) { }
        catch (IOException) { }
    }

    /// <summary>One SSE frame. The JSON is a single line (no indentation), so one data: line carries it.</summary>
    internal static byte[] SseFrame(Tend.Events.LifecycleEvent e)
    {
        var head = new StringBuilder(64);
        // A notice outside the sequence (seq 0) carries no id: the client's Last-Event-ID stays the last real one.
        if (e.Seq > 0) head.Append("id: ").Append(e.Seq.ToString(CultureInfo.InvariantCulture)).Append('\n');
        head.Append("event: ").Append(e.Type).Append("\ndata: ");
        byte[] json = JsonSerializer.SerializeToUtf8Bytes(Wire.WireMapper.ToWire(e), TendJsonContext.Default.TendEvent);
        return [.. Encoding.UTF8.GetBytes(head.ToString()), .. json, (byte)'\n', (byte)'\n'];
    }

    private static async Task WriteLineAsync(Stream body, Tend.Events.LifecycleEvent e, CancellationToken ct)
    {
        await body.WriteAsync(JsonSerializer.SerializeToUtf8Bytes(Wire.WireMapper.ToWire(e), TendJsonContext.Default.TendEvent), ct);
        await body.WriteAsync(s_newline, ct);
    }

    private static long? ParseAfter(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        if (long.TryParse(text.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out long seq)) return seq;
        throw new BadRequestException($"after (or Last-Event-ID) must be an event sequence number, not \"{text}\"");
    }
}
