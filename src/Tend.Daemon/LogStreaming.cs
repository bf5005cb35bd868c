using System.Text.Json;
using System.Threading.Channels;
using Tend.Api;
using Tend.Config;
using Tend.Logs;
using Tend.Supervision;

namespace Tend.Daemon;

/// <summary>
/// GET /v1/logs: the last N lines of a target's log files merged by time, then (with follow)
/// every line as it is read from the instances, as NDJSON. Following subscribes to each instance
/// number's live feed (<see cref="LogFeeds"/>), which carries on across restarts and reloads; the
/// files are read only for the history. It subscribes before reading the history, so a line written
/// in between may show twice but is never skipped. Following ends when the client goes away or the
/// daemon shuts down: an open `tend logs` or `tend monit` must not hold `tend kill` up for the
/// host's whole shutdown timeout.
/// </summary>
internal static class LogStreaming
{
    private static readonly byte[] s_newline = "\n"u8.ToArray();

    public static async Task StreamAsync(
        HttpContext context, Supervisor supervisor, IHostApplicationLifetime lifetime, string? target, int? lines, bool? follow, string? stream)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, lifetime.ApplicationStopping);
        CancellationToken ct = stop.Token;
        bool wantOut = stream is null or "both" or "out";
        bool wantErr = stream is null or "both" or "err";
        if (stream is not (null or "both" or "out" or "err"))
            throw new BadRequestException($"stream must be out, err or both, not \"{stream}\"");
        int count = lines ?? 20;
        if (count < 0) throw new BadRequestException("lines must be 0 or more");

        var sources = new List<(string Path, LogFormat Format, Instance Instance, LogStream Stream)>();
        foreach (Instance inst in supervisor.Resolve(target ?? "all"))
        {
            LogFormat format = inst.Spec.Logs.Format;
            if (wantOut) sources.Add((inst.OutLogPath, format, inst, LogStream.Out));
            if (wantErr) sources.Add((inst.ErrLogPath, format, inst, LogStream.Err));
        }

        context.Response.ContentType = "application/x-ndjson";
        context.Response.Headers.CacheControl = "no-cache";
        var body = context.Response.Body;

        // Subscribed before the history is read: nothing written meanwhile is lost.
        var live = Channel.CreateBounded<LogLine>(new BoundedChannelOptions(LineFeed.SubscriberCapacity)
        {
            FullMode = BoundedChannelFullMode.DropOldest,
            SingleReader = true,
        });
        var pumps = follow == true
            ? sources.Select(s => ForwardAsync(supervisor.LogFeeds.For(s.Instance.Name, s.Instance.Number, s.Stream).SubscribeAsync(ct), live.Writer)).ToList()
            : [];
        try
        {
            var history = LogReader.MergeByTime(
                sources.Select(s => LogReader.ReadLast(s.Path, count, s.Format, s.Instance.Name, s.Instance.Number, s.Stream)), count);
            foreach (LogLine line in history) await WriteAsync(body, line, ct);
            await body.FlushAsync(ct);
            if (follow != true) return;

            while (await live.Reader.WaitToReadAsync(ct))
            {
                while (live.Reader.TryRead(out LogLine? line)) await WriteAsync(body, line, ct);
                await body.FlushAsync(ct);
            }
        }
        catch (OperationCanceledException) { }
        catch (IOException) { } // the client went away
        finally
        {
            await stop.CancelAsync();
            await Task.WhenAll(pumps);
        }
    }

    private static async Task ForwardAsync(IAsyncEnumerable<LogLine> feed, ChannelWriter<LogLine> into)
    {
        try
        {
            await foreach (LogLine line in feed) into.TryWrite(line);
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static async Task WriteAsync(Stream body, LogLine line, CancellationToken ct)
    {
        var dto = new LogLineDto(line.Time, line.App, line.Instance, line.Stream == LogStream.Out ? "out" : "err", line.Text);
        byte[] json = JsonSerializer.SerializeToUtf8Bytes(dto, TendJsonContext.Default.LogLineDto);
        await body.WriteAsync(json, ct);
        await body.WriteAsync(s_newline, ct);
    }
}
