namespace Tend.Supervision;

internal static class Durations
{
    /// <summary>"500ms", "5s", "2m", "1h": the shortest exact form, as configs write them.</summary>
    public static string Format(TimeSpan t)
    {
        double ms = t.TotalMilliseconds;
        if (ms % 3_600_000 == 0 && ms > 0) return $"{ms / 3_600_000}h";
        if (ms % 60_000 == 0 && ms > 0) return $"{ms / 60_000}m";
        if (ms % 1000 == 0) return $"{ms / 1000}s";
        return $"{ms}ms";
    }
}
