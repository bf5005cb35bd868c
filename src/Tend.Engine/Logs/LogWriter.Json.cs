using System.Buffers;
using System.Text;

namespace Tend.Logs;

// format: json — {"time":"…","app":"web","instance":0,"stream":"out","text":"…"} per line.
// Built by hand from bytes: the text is the only variable part besides the time, so the
// middle is precomputed and only the text is escaped. Invalid UTF-8 becomes U+FFFD.
public sealed partial class LogWriter
{
    private static ReadOnlySpan<byte> JsonStart => "{\"time\":\""u8;
    private static ReadOnlySpan<byte> JsonEnd => "\"}\n"u8;

    /// <summary>Bytes that can be copied into a JSON string as they are.</summary>
    private static readonly SearchValues<byte> s_jsonPlain = SearchValues.Create(BuildJsonPlain());

    /// <summary>","app":"web","instance":0,"stream":"out","text":"</summary>
    private readonly byte[] _jsonMiddle;
    private byte[] _json = [];

    private static byte[] BuildJsonPlain()
    {
        var plain = new List<byte>();
        for (int b = 0x20; b < 0x80; b++)
        {
            if (b is not '"' and not '\\') plain.Add((byte)b);
        }
        return [.. plain];
    }

    private static byte[] BuildJsonMiddle(string app, int instance, LogStream stream)
    {
        byte[] appBytes = Encoding.UTF8.GetBytes(app);
        byte[] escaped = new byte[appBytes.Length * 6];
        int n = EscapeJson(appBytes, escaped);
        var middle = new List<byte>();
        middle.AddRange("\",\"app\":\""u8.ToArray());
        middle.AddRange(escaped.AsSpan(0, n).ToArray());
        middle.AddRange(Encoding.UTF8.GetBytes($"\",\"instance\":{instance},\"stream\":\"{(stream == LogStream.Out ? "out" : "err")}\",\"text\":\""));
        return [.. middle];
    }

    private ReadOnlySpan<byte> FormatJson(ReadOnlySpan<byte> text, ReadOnlySpan<byte> stamp)
    {
        int max = JsonStart.Length + stamp.Length + _jsonMiddle.Length + text.Length * 6 + JsonEnd.Length;
        if (_json.Length < max)
            _json = new byte[Math.Max(max, 4096)];
        Span<byte> dst = _json;
        int w = 0;
        JsonStart.CopyTo(dst);
        w += JsonStart.Length;
        stamp.CopyTo(dst[w..]);
        w += stamp.Length;
        _jsonMiddle.CopyTo(dst[w..]);
        w += _jsonMiddle.Length;
        w += EscapeJson(text, dst[w..]);
        JsonEnd.CopyTo(dst[w..]);
        w += JsonEnd.Length;
        ReadOnlySpan<byte> result = _json.AsSpan(0, w);
        return result;
    }

    /// <summary>Escapes <paramref name="src"/> as the inside of a JSON string; dst needs 6 bytes per source byte.</summary>
    internal static int EscapeJson(ReadOnlySpan<byte> src, Span<byte> dst)
    {
        int w = 0;
        while (!src.IsEmpty)
        {
            int plain = src.IndexOfAnyExcept(s_jsonPlain);
            if (plain < 0) plain = src.Length;
            src[..plain].CopyTo(dst[w..]);
            w += plain;
            src = src[plain..];
            if (src.IsEmpty) break;

            byte b = src[0];
            if (b < 0x80)
            {
                dst[w++] = (byte)'\\';
                switch (b)
                {
                    case (byte)'"': dst[w++] = (byte)'"'; break;
                    case (byte)'\\': dst[w++] = (byte)'\\'; break;
                    case (byte)'\n': dst[w++] = (byte)'n'; break;
                    case (byte)'\r': dst[w++] = (byte)'r'; break;
                    case (byte)'\t': dst[w++] = (byte)'t'; break;
                    case (byte)'\b': dst[w++] = (byte)'b'; break;
                    case (byte)'\f': dst[w++] = (byte)'f'; break;
                    default:
                        dst[w++] = (byte)'u';
                        dst[w++] = (byte)'0';
                        dst[w++] = (byte)'0';
                        dst[w++] = (byte)"0123456789abcdef"[b >> 4];
                        dst[w++] = (byte)"0123456789abcdef"[b & 0xF];
                        break;
                }
                src = src[1..];
            }
            else
            {
                // Rune.DecodeFromUtf8 reports the length of a maximal invalid subsequence,
                // which is exactly what one U+FFFD replaces (the Unicode "best practice").
                OperationStatus status = Rune.DecodeFromUtf8(src, out _, out int consumed);
                if (status == OperationStatus.Done)
                {
                    src[..consumed].CopyTo(dst[w..]);
                    w += consumed;
                }
                else
                {
                    "\uFFFD"u8.CopyTo(dst[w..]);
                    w += 3;
                }
                src = src[Math.Max(consumed, 1)..];
            }
        }
        return w;
    }
}
