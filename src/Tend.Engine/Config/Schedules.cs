using Cronos;

namespace Tend.Config;

/// <summary>
/// Cron expressions, read by Cronos (time zones and daylight saving done right): five fields, or
/// six with seconds first. The next occurrence is computed in the schedule's zone, so "0 3 * * *"
/// in Europe/Berlin is 03:00 local on both sides of a DST change (and a 02:30 that does not exist
/// on the spring-forward day runs once at 03:00, as Cronos defines it).
/// </summary>
public static class Schedules
{
    /// <summary>The parsed expression, or why it is not one.</summary>
    public static (CronExpression? Expression, string? Error) Parse(string cron)
    {
        string text = cron.Trim();
        int fields = text.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length;
        if (fields is not (5 or 6)) return (null, $"expected a cron expression of 5 fields (minute hour day month weekday) or 6 (seconds first), got {fields}: \"{cron}\"");
        try
        {
            return (CronExpression.Parse(text, fields == 6 ? CronFormat.IncludeSeconds : CronFormat.Standard), null);
        }
        catch (CronFormatException e)
        {
            return (null, $"not a valid cron expression \"{cron}\": {e.Message}");
        }
    }

    public static TimeZoneInfo? FindZone(string? id)
    {
        if (id is null) return TimeZoneInfo.Local;
        try { return TimeZoneInfo.FindSystemTimeZoneById(id); }
        catch (Exception e) when (e is TimeZoneNotFoundException or InvalidTimeZoneException) { return null; }
    }

    /// <summary>The first occurrence strictly after <paramref name="after"/>, or null when there is none.</summary>
    public static DateTimeOffset? Next(RestartSchedule schedule, DateTimeOffset after)
    {
        if (Parse(schedule.Cron).Expression is not { } expression || FindZone(schedule.TimeZone) is not { } zone) return null;
        return expression.GetNextOccurrence(after, zone);
    }
}
