using System.Globalization;

namespace Tend.Config;

/// <summary>Parsers for the duration and size values a config may hold.</summary>
internal static class Units
{
    // Far beyond any sensible timeout (~146 years) and safely inside TimeSpan's range.
    private const long MaxMilliseconds = 1L << 52;

    /// <summary>
    /// "500ms", "10s", "2m", "1h", "1d", "1.5s", "1m30s", or a bare whole number of milliseconds.
    /// Units are case-insensitive; a space between number and unit is allowed. Never negative.
    /// </summary>
    public static bool TryParseDuration(string text, out TimeSpan value)
    {
        value = TimeSpan.Zero;
        text = text.Trim();
        if (text.Length == 0) return false;
        if (long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out long bareMs))
        {
            if (bareMs > MaxMilliseconds) return false;
            value = TimeSpan.FromMilliseconds(bareMs);
            return true;
        }

        int i = 0;
        decimal totalMs = 0;
        while (i < text.Length)
        {
            if (!TryReadNumber(text, ref i, out decimal number)) return false;
            while (i < text.Length && text[i] == ' ') i++;
            int unitStart = i;
            while (i < text.Length && char.IsAsciiLetter(text[i])) i++;
            decimal? scale = text[unitStart..i].ToLowerInvariant() switch
            {
                "ms" => 1m,
                "s" or "sec" => 1_000m,
                "m" or "min" => 60_000m,
                "h" => 3_600_000m,
                "d" => 86_400_000m,
                _ => null,
            };
            if (scale is null) return false;
            totalMs += number * scale.Value;
            if (totalMs > MaxMilliseconds) return false;
            while (i < text.Length && text[i] == ' ') i++;
        }
        value = TimeSpan.FromTicks((long)decimal.Round(totalMs * TimeSpan.TicksPerMillisecond));
        return true;
    }

    /// <summary>
    /// "512K", "200M", "1G", "1.5G", "1024" (bytes), with optional B/KB/MB/GB/TB or KiB/MiB/GiB/TiB.
    /// Every multiple is binary (K = KB = KiB = 1024): memory limits and log sizes are always
    /// thought of in powers of two, and PM2's max_memory_restart reads "200M" the same way.
    /// </summary>
    public static bool TryParseSize(string text, out long bytes)
    {
        bytes = 0;
        text = text.Trim();
        int i = 0;
        if (!TryReadNumber(text, ref i, out decimal number)) return false;
        while (i < text.Length && text[i] == ' ') i++;
        int shift = text[i..].ToUpperInvariant() switch
        {
            "" or "B" => 0,
            "K" or "KB" or "KIB" => 10,
            "M" or "MB" or "MIB" => 20,
            "G" or "GB" or "GIB" => 30,
            "T" or "TB" or "TIB" => 40,
            _ => -1,
        };
        if (shift < 0) return false;
        decimal result = number * (1L << shift);
        if (result > long.MaxValue) return false;
        bytes = (long)decimal.Round(result);
        return true;
    }

    /// <summary>"1.5s" for 1500 ms, "250ms", "2m": the shortest exact rendering, for messages.</summary>
    public static string FormatDuration(TimeSpan value)
    {
        double ms = value.TotalMilliseconds;
        if (ms == 0) return "0s";
        if (ms % 3_600_000 == 0) return $"{ms / 3_600_000}h";
        if (ms % 60_000 == 0) return $"{ms / 60_000}m";
        if (ms % 1_000 == 0) return $"{ms / 1_000}s";
        return ms >= 1_000 ? (ms / 1_000).ToString(CultureInfo.InvariantCulture) + "s" : ms.ToString(CultureInfo.InvariantCulture) + "ms";
    }

    /// <summary>"512 B", "1.5 KiB", "200 MiB", "1.2 GiB": a size for messages.</summary>
    public static string FormatSize(long bytes)
    {
        string[] units = ["B", "KiB", "MiB", "GiB", "TiB"];
        double value = Math.Abs((double)bytes);
        int unit = 0;
        while (value >= 1000 && unit < units.Length - 1)
        {
            value /= 1024;
            unit++;
        }
        string number = unit == 0 ? value.ToString("0", CultureInfo.InvariantCulture) : value.ToString(value >= 100 ? "0" : "0.#", CultureInfo.InvariantCulture);
        return (bytes < 0 ? "-" : "") + number + " " + units[unit];
    }

    /// <summary>"45s", "5m 50s", "2h 10m", "3d 4h": a rounded span for estimates.</summary>
    public static string FormatApproximate(TimeSpan value)
    {
        if (value < TimeSpan.FromMinutes(1)) return $"{Math.Max(0, (int)value.TotalSeconds)}s";
        if (value < TimeSpan.FromHours(1)) return $"{(int)value.TotalMinutes}m {value.Seconds}s";
        if (value < TimeSpan.FromDays(1)) return $"{(int)value.TotalHours}h {value.Minutes}m";
        return $"{(int)value.TotalDays}d {value.Hours}h";
    }

    private static bool TryReadNumber(string text, ref int i, out decimal number)
    {
        int start = i;
        while (i < text.Length && (char.IsAsciiDigit(text[i]) || text[i] == '.')) i++;
        return decimal.TryParse(text.AsSpan(start, i - start), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out number)
            && char.IsAsciiDigit(text[start]) && char.IsAsciiDigit(text[i - 1]);
    }
}
