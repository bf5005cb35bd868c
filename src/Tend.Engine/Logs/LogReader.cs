using System.Buffers;
using System.Text;
using System.Text.Json;
using Microsoft.Win32.SafeHandles;
using Tend.Config;

namespace Tend.Logs;

/// <summary>Reads log files back for `tend logs`.</summary>
public static class LogReader
{
    private const int BlockSize = 64 * 1024;

    /// <summary>
    /// The last <paramref name="lines"/> lines of <paramref name="path"/>, oldest first. Reads
    /// backwards from the end in 64 KiB blocks, so the cost depends on the lines asked for, not on
    /// the size of the file. A missing file has no lines. A line without a parsable timestamp
    /// (or json object) keeps its whole text and a null <see cref="LogLine.Time"/>.
    /// </summary>
    public static IReadOnlyList<LogLine> ReadLast(string path, int lines, LogFormat format, string app, int instance, LogStream stream)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(lines);
        if (lines == 0) return [];
        SafeFileHandle handle;
        try
        {
            handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return [];
        }
        using (handle)
        {
            long length = RandomAccess.GetLength(handle);
            if (length == 0) return [];
            long start = FindStartOfLastLines(handle, length, lines);
            long size = length - start;
            if (size > Array.MaxLength)
                throw new IOException($"{path}: the last {lines} lines are larger than {Array.MaxLength} bytes.");
            byte[] tail = new byte[size];
            int read = ReadAt(handle, tail, start);
            return ParseLines(tail.AsSpan(0, read), format, app, instance, stream);
        }
    }

    private static long FindStartOfLastLines(SafeFileHandle handle, long length, int lines)
    {
        byte[] block = ArrayPool<byte>.Shared.Rent(BlockSize);
        try
        {
            // A final newline ends the last line; it does not start another one.
            long end = length;
            Span<byte> last = stackalloc byte[1];
            if (RandomAccess.Read(handle, last, length - 1) == 1 && last[0] == (byte)'\n')
                end--;

            int found = 0;
            long pos = end;
            while (pos > 0)
            {
                int n = (int)Math.Min(BlockSize, pos);
                pos -= n;
                int got = ReadAt(handle, block.AsSpan(0, n), pos);
                Span<byte> span = block.AsSpan(0, got);
                int nl;
                while ((nl = span.LastIndexOf((byte)'\n')) >= 0)
                {
                    if (++found == lines) return pos + nl + 1;
                    span = span[..nl];
                }
            }
            return 0;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(block);
        }
    }

    private static int ReadAt(SafeFileHandle handle, Span<byte> buffer, long offset)
    {
        int total = 0;
        while (total < buffer.Length)
        {
            int n = RandomAccess.Read(handle, buffer[total..], offset + total);
            if (n == 0) break; // truncated under us (`tend flush`)
            total += n;
        }
        return total;
    }

    /// <summary>Splits bytes into lines (a last line without newline included) and parses each.</summary>
    internal static List<LogLine> ParseLines(ReadOnlySpan<byte> data, LogFormat format, string app, int instance, LogStream stream)
    {
        var result = new List<LogLine>();
        while (!data.IsEmpty)
        {
            int nl = data.IndexOf((byte)'\n');
            ReadOnlySpan<byte> line = nl < 0 ? data : data[..nl];
            data = nl < 0 ? default : data[(nl + 1)..];
            result.Add(ParseLine(line, format, app, instance, stream));
        }
        return result;
    }

    /// <summary>Parses one line as written by <see cref="LogWriter"/> (without its newline).</summary>
    public static LogLine ParseLine(ReadOnlySpan<byte> line, LogFormat format, string app, int instance, LogStream stream)
    {
        if (format == LogFormat.Json && TryParseJson(line, app, instance, stream, out var parsed))
            return parsed;
        string text = Encoding.UTF8.GetString(line);
        if (format == LogFormat.Text && text.Length > LogTimestamp.Length && text[LogTimestamp.Length] == ' '
            && LogTimestamp.TryParse(text.AsSpan(0, LogTimestamp.Length), out var time))
            return new LogLine(time, app, instance, stream, text[(LogTimestamp.Length + 1)..]);
        return new LogLine(null, app, instance, stream, text);
    }

    private static bool TryParseJson(ReadOnlySpan<byte> line, string app, int instance, LogStream stream, out LogLine parsed)
    {
        parsed = null!;
        if (line.IsEmpty || line[0] != (byte)'{') return false;
        try
        {
            var reader = new Utf8JsonReader(line);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return false;
            DateTimeOffset? time = null;
            string? text = null;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("time"u8))
                {
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.String && reader.TryGetDateTimeOffset(out var t)) time = t;
                }
                else if (reader.ValueTextEquals("app"u8))
                {
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.String) app = reader.GetString()!;
                }
                else if (reader.ValueTextEquals("instance"u8))
                {
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out int i)) instance = i;
                }
                else if (reader.ValueTextEquals("stream"u8))
                {
                    reader.Read();
                    if (reader.ValueTextEquals("out"u8)) stream = LogStream.Out;
                    else if (reader.ValueTextEquals("err"u8)) stream = LogStream.Err;
                }
                else if (reader.ValueTextEquals("text"u8))
                {
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.String) text = reader.GetString();
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }
            if (text is null) return false;
            parsed = new LogLine(time, app, instance, stream, text);
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary>
    /// Merges the lines of several files (each already in file order) by time, for `tend logs all`,
    /// and keeps the last <paramref name="lines"/>. Each source keeps its own order; a line without
    /// a time stays right after the line before it in its file. Ties go to the earlier source.
    /// </summary>
    public static IReadOnlyList<LogLine> MergeByTime(IEnumerable<IReadOnlyList<LogLine>> sources, int lines = int.MaxValue)
    {
        ArgumentNullException.ThrowIfNull(sources);
        ArgumentOutOfRangeException.ThrowIfNegative(lines);
        var lists = sources.Where(s => s.Count > 0).ToList();
        var queue = new PriorityQueue<(int Source, int Index, DateTimeOffset Key), (DateTimeOffset Key, int Source)>();
        for (int s = 0; s < lists.Count; s++)
        {
            var key = lists[s][0].Time ?? DateTimeOffset.MinValue;
            queue.Enqueue((s, 0, key), (key, s));
        }
        var merged = new List<LogLine>();
        while (queue.TryDequeue(out var item, out _))
        {
            var list = lists[item.Source];
            merged.Add(list[item.Index]);
            int next = item.Index + 1;
            if (next < list.Count)
            {
                var key = list[next].Time ?? item.Key;
                queue.Enqueue((item.Source, next, key), (key, item.Source));
            }
        }
        return merged.Count <= lines ? merged : merged.GetRange(merged.Count - lines, lines);
    }

    /// <summary>
    /// The last <paramref name="lines"/> lines over several log files merged by time: reads the
    /// last <paramref name="lines"/> of each, then merges.
    /// </summary>
    public static IReadOnlyList<LogLine> ReadLastMerged(IEnumerable<LogSource> sources, int lines, LogFormat format)
    {
        ArgumentNullException.ThrowIfNull(sources);
        return MergeByTime(sources.Select(s => ReadLast(s.Path, lines, format, s.App, s.Instance, s.Stream)), lines);
    }
}

/// <summary>One log file and whose output it holds.</summary>
public sealed record LogSource(string Path, string App, int Instance, LogStream Stream);
