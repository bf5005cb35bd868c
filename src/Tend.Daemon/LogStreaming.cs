using System.Text.Json;
using Tend.Api;
using Tend.Config;
using Tend.Logs;
using Tend.Supervision;

namespace Tend.Daemon;

/// <summary>
/// GET /v1/logs: the last N lines of a target's log files merged by time, then (with follow)
/// whatever is appended, as NDJSON. Following reads the files rather than hooking the writers, so
/// it carries on across restarts of an instance and sees exactly what is on disk; a file that
/// shrinks (flush, rotation) is read again from its start. Following ends when the client goes
/// away or the daemon shuts down: an open `tend logs` or `tend monit` must not hold `tend kill`
/// up for the host's whole shutdown timeout.
/// </summary>
internal static class LogStreaming
{
    private static readonly TimeSpan s_pollInterval = TimeSpan.FromMilliseconds(150);
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

        var followers = new List<Follower>();
        foreach (Instance inst in supervisor.Resolve(target ?? "all"))
        {
            LogFormat format = inst.Spec.Logs.Format;
            if (wantOut) followers.Add(new Follower(inst.OutLogPath, inst.Name, inst.Number, LogStream.Out, format));
            if (wantErr) followers.Add(new Follower(inst.ErrLogPath, inst.Name, inst.Number, LogStream.Err, format));
        }

        context.Response.ContentType = "application/x-ndjson";
        context.Response.Headers.CacheControl = "no-cache";
        var body = context.Response.Body;

        // Remember where each file ends before reading its tail: following starts there, so a
        // line written meanwhile may show twice but is never skipped.
        foreach (Follower f in followers) f.Offset = f.CurrentLength();
        var history = LogReader.MergeByTime(
            followers.Select(f => LogReader.ReadLast(f.Path, count, f.Format, f.App, f.Instance, f.Stream)), count);
        foreach (LogLine line in history) await WriteAsync(body, line, ct);
        await body.FlushAsync(ct);

        if (follow != true) return;
        try
        {
            while (!ct.IsCancellationRequested)
            {
                bool any = false;
                foreach (Follower f in followers)
                {
                    foreach (LogLine line in f.ReadNew())
                    {
                        await WriteAsync(body, line, ct);
                        any = true;
                    }
                }
                if (any) await body.FlushAsync(ct);
                await Task.Delay(s_pollInterval, ct);
            }
        }
        catch (OperationCanceledException) { }
        catch (IOException) { } // the client went away
    }

    private static async Task WriteAsync(Stream body, LogLine line, CancellationToken ct)
    {
        var dto = new LogLineDto(line.Time, line.App, line.Instance, line.Stream == LogStream.Out ? "out" : "err", line.Text);
        byte[] json = JsonSerializer.SerializeToUtf8Bytes(dto, TendJsonContext.Default.LogLineDto);
        await body.WriteAsync(json, ct);
        await body.WriteAsync(s_newline, ct);
    }

    private sealed class Follower(string path, string app, int instance, LogStream stream, LogFormat format)
    {
        public string Path { get; } = path;
        public string App { get; } = app;
        public int Instance { get; } = instance;
        public LogStream Stream { get; } = stream;
        public LogFormat Format { get; } = format;
        public long Offset { get; set; }

        public long CurrentLength()
        {
            try { return new FileInfo(Path).Length; }
            catch (IOException) { return 0; }
        }

        /// <summary>Complete lines appended since the last call.</summary>
        public List<LogLine> ReadNew()
        {
            var result = new List<LogLine>();
            long length = File.Exists(Path) ? CurrentLength() : 0;
            if (length < Offset) Offset = 0; // truncated or rotated: start over on the new file
            if (length == Offset) return result;
            using var file = new FileStream(Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1);
            file.Seek(Offset, SeekOrigin.Begin);
            var buffer = new byte[(int)Math.Min(length - Offset, 4 * 1024 * 1024)];
            int read = file.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
            int end = Array.LastIndexOf(buffer, (byte)'\n', read - 1);
            if (end < 0) return result; // no complete line yet
            int start = 0;
            for (int i = 0; i <= end; i++)
            {
                if (buffer[i] != (byte)'\n') continue;
                result.Add(LogReader.ParseLine(buffer.AsSpan(start, i - start), Format, App, Instance, Stream));
                start = i + 1;
            }
            Offset += end + 1;
            return result;
        }
    }
}
