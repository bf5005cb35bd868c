using Tend.Config;

namespace Tend.Tests.Config;

/// <summary>restart_schedule: the cron expression and its zone, read and checked, and the next runs across daylight saving.</summary>
public sealed class RestartScheduleTests : IDisposable
{
    private readonly ConfigTestDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static DateTimeOffset Utc(string text) => DateTimeOffset.Parse(text, System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    public void Next_InEuropeBerlin_KeepsLocalTimeAcrossBothDaylightSavingChanges()
    {
        var daily = new RestartSchedule("0 3 * * *", "Europe/Berlin");
        // 2026-03-29: clocks go from 02:00 to 03:00 CET→CEST. 03:00 local is 01:00Z that day, 02:00Z the day before.
        Assert.Equal(Utc("2026-03-28T02:00:00Z"), Schedules.Next(daily, Utc("2026-03-27T12:00:00Z")));
        Assert.Equal(Utc("2026-03-29T01:00:00Z"), Schedules.Next(daily, Utc("2026-03-28T12:00:00Z")));
        // 2026-10-25: back from 03:00 CEST to 02:00 CET.
        Assert.Equal(Utc("2026-10-25T02:00:00Z"), Schedules.Next(daily, Utc("2026-10-24T12:00:00Z")));

        // 02:30 does not exist on the spring-forward day: it runs once, at 03:00 CEST.
        var skipped = new RestartSchedule("30 2 * * *", "Europe/Berlin");
        Assert.Equal(Utc("2026-03-29T01:00:00Z"), Schedules.Next(skipped, Utc("2026-03-28T12:00:00Z")));
        // 02:30 happens twice on the fall-back day: it runs once.
        DateTimeOffset first = Schedules.Next(skipped, Utc("2026-10-24T12:00:00Z"))!.Value;
        DateTimeOffset after = Schedules.Next(skipped, first)!.Value;
        Assert.Equal(Utc("2026-10-26T01:30:00Z"), after);
    }

    [Fact]
    public void Next_SixFields_CountSeconds()
    {
        Assert.Equal(Utc("2026-12-05T10:00:02Z"), Schedules.Next(new RestartSchedule("*/2 * * * * *", "UTC"), Utc("2026-12-05T10:00:00.500Z")));
    }

    [Fact]
    public void Config_ShortAndLongForms_AndErrorsWithTheirLines()
    {
        TendConfig config = _dir.Load("""
            apps:
              a: { run: node a.js, restart_schedule: "0 3 * * *" }
              b: { run: node b.js, restart_schedule: { cron: "0 */6 * * *", timezone: Europe/Berlin } }
            """);
        Assert.Equal(new RestartSchedule("0 3 * * *", null), config.Apps[0].RestartSchedule);
        Assert.Equal(new RestartSchedule("0 */6 * * *", "Europe/Berlin"), config.Apps[1].RestartSchedule);

        List<string> errors = _dir.Errors("""
            apps:
              a: { run: node a.js, restart_schedule: "0 3 * *" }
              b: { run: node b.js, restart_schedule: "0 25 * * *" }
              c: { run: node c.js, restart_schedule: { cron: "0 3 * * *", timezone: Mars/Olympus } }
            """);
        Assert.Equal(3, errors.Count);
        Assert.StartsWith("ROOT/tend.yaml:2:42: apps.a.restart_schedule: expected a cron expression of 5 fields", errors[0]);
        Assert.StartsWith("ROOT/tend.yaml:3:42: apps.b.restart_schedule: not a valid cron expression \"0 25 * * *\"", errors[1]);
        Assert.Equal("ROOT/tend.yaml:4:73: apps.c.restart_schedule.timezone: unknown time zone \"Mars/Olympus\" (an IANA name such as Europe/Berlin or UTC)", errors[2]);
    }
}
