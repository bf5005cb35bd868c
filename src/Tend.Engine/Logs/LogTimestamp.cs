namespace Tend.Logs;

/// <summary>The fixed-width UTC timestamp of log lines: 2026-11-21T14:08:24.123Z (24 bytes).</summary>
internal static class LogTimestamp
{
    public const int Length = 24;

    public static void Format(DateTimeOffset time, Span<byte> dst)
    {
        DateTime t = time.UtcDateTime;
        _ = dst[Length - 1];
        Digits(dst, 0, t.Year, 4);
        dst[4] = (byte)'-';
        Digits(dst, 5, t.Month, 2);
        dst[7] = (byte)'-';
        Digits(dst, 8, t.Day, 2);
        dst[10] = (byte)'T';
        Digits(dst, 11, t.Hour, 2);
        dst[13] = (byte)':';
        Digits(dst, 14, t.Minute, 2);
        dst[16] = (byte)':';
        Digits(dst, 17, t.Second, 2);
        dst[19] = (byte)'.';
        Digits(dst, 20, t.Millisecond, 3);
        dst[23] = (byte)'Z';
    }

    private static void Digits(Span<byte> dst, int at, int value, int count)
    {
        for (int i = at + count - 1; i >= at; i--)
        {
            dst[i] = (byte)('0' + value % 10);
            value /= 10;
        }
    }

    /// <summary>Parses exactly the format <see cref="Format"/> writes, nothing looser.</summary>
    public static bool TryParse(ReadOnlySpan<char> s, out DateTimeOffset time)
    {
        time = default;
        if (s.Length != Length || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':'
            || s[16] != ':' || s[19] != '.' || s[23] != 'Z')
            return false;
        if (!Number(s, 0, 4, out int year) || !Number(s, 5, 2, out int month) || !Number(s, 8, 2, out int day)
            || !Number(s, 11, 2, out int hour) || !Number(s, 14, 2, out int minute)
            || !Number(s, 17, 2, out int second) || !Number(s, 20, 3, out int millisecond))
            return false;
        if (year < 1 || month is < 1 or > 12 || day < 1 || day > DateTime.DaysInMonth(year, month)
            || hour > 23 || minute > 59 || second > 59)
            return false;
        time = new DateTimeOffset(year, month, day, hour, minute, second, millisecond, TimeSpan.Zero);
        return true;
    }

    private static bool Number(ReadOnlySpan<char> s, int at, int count, out int value)
    {
        value = 0;
        for (int i = at; i < at + count; i++)
        {
            int d = s[i] - '0';
            if ((uint)d > 9) return false;
            value = value * 10 + d;
        }
        return true;
    }
}
