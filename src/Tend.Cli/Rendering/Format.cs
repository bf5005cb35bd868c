using System.Globalization;
using System.Text;

namespace Tend.Cli.Rendering;

/// <summary>Numbers as people read them in a terminal, the PM2 way (12s, 5m, 12.3mb, 0.5%).</summary>
internal static class Format
{
    private static readonly CultureInfo s_invariant = CultureInfo.InvariantCulture;

    /// <summary>
    /// Text from an app made safe for a terminal: control characters (C0 but tab, DEL, C1) become
    /// visible escapes such as <c>\x1b</c>, so an app's output or STATUS= text cannot move the cursor,
    /// clear the screen, retitle the window or answer for the user (OSC and DCS sequences).
    /// </summary>
    public static string Printable(string text)
    {
        if (!text.AsSpan().ContainsAnyInRange('\0', '\x08') && !text.AsSpan().ContainsAnyInRange('\x0a', '\x1f')
            && !text.AsSpan().ContainsAnyInRange('\x7f', '\x9f'))
            return text;
        var sb = new System.Text.StringBuilder(text.Length + 8);
        foreach (char c in text)
        {
            if (c == '\t' || (c >= ' ' && c < '\x7f') || c > '\x9f') sb.Append(c);
            else sb.Append("\\x").Append(((int)c).ToString("x2", s_invariant));
        }
        return sb.ToString();
    }

    /// <summary>Coarse age for tables: 12s, 5m, 3h, 2D (whole units, rounded down).</summary>
    public static string Uptime(long ms)
    {
        long s = Math.Max(0, ms) / 1000;
        if (s < 60) return s.ToString(s_invariant) + "s";
        long m = s / 60;
        if (m < 60) return m.ToString(s_invariant) + "m";
        long h = m / 60;
        if (h < 24) return h.ToString(s_invariant) + "h";
        return (h / 24).ToString(s_invariant) + "D";
    }

    /// <summary>Exact span for settings: 0s, 250ms, 1.5s, 1m30s, 2h, 1d2h.</summary>
    public static string Duration(long ms)
    {
        if (ms <= 0) return "0s";
        if (ms < 1000) return ms.ToString(s_invariant) + "ms";
        var text = new StringBuilder();
        long rest = ms;
        Append(ref rest, 86_400_000, "d");
        Append(ref rest, 3_600_000, "h");
        Append(ref rest, 60_000, "m");
        if (rest > 0) text.Append((rest / 1000.0).ToString("0.###", s_invariant)).Append('s');
        return text.ToString();

        void Append(ref long remaining, long unit, string suffix)
        {
            if (remaining < unit) return;
            text.Append((remaining / unit).ToString(s_invariant)).Append(suffix);
            remaining %= unit;
        }
    }

    /// <summary>Binary units, one decimal: 0b, 512b, 12.3kb, 12.3mb, 1.2gb.</summary>
    public static string Memory(long bytes)
    {
        if (bytes < 1024) return Math.Max(0, bytes).ToString(s_invariant) + "b";
        double value = bytes / 1024.0;
        if (value < 1024) return value.ToString("0.0", s_invariant) + "kb";
        value /= 1024;
        if (value < 1024) return value.ToString("0.0", s_invariant) + "mb";
        value /= 1024;
        return value.ToString("0.0", s_invariant) + "gb";
    }

    /// <summary>0%, 12.5%, 100%.</summary>
    public static string Cpu(double percent) =>
        (double.IsFinite(percent) ? Math.Max(0, percent) : 0).ToString("0.#", s_invariant) + "%";

    /// <summary>A wall-clock time in the viewer's zone, to the second.</summary>
    public static string Timestamp(DateTimeOffset time, TimeZoneInfo zone) =>
        TimeZoneInfo.ConvertTime(time, zone).ToString("yyyy-MM-dd HH:mm:ss", s_invariant);

    /// <summary>"web#0" for instance 0 of web.</summary>
    public static string InstanceName(string app, int instance) =>
        app + "#" + instance.ToString(s_invariant);

    /// <summary>An argv shown as a shell would need it typed: words with spaces or quotes single-quoted.</summary>
    public static string CommandLine(string command, IEnumerable<string> args)
    {
        var text = new StringBuilder(Quote(command));
        foreach (string arg in args) text.Append(' ').Append(Quote(arg));
        return text.ToString();
    }

    private static string Quote(string word)
    {
        if (word.Length > 0 && !word.Any(c => char.IsWhiteSpace(c) || c is '\'' or '"' or '\\' or '$' or '`' or '*' or '?' or ';' or '&' or '|' or '<' or '>' or '(' or ')'))
            return word;
        return "'" + word.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
    }
}
