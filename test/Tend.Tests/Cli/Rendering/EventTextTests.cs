using Tend.Api;
using Tend.Cli.Commands;
using Tend.Cli.Rendering;

namespace Tend.Tests.Cli.Rendering;

public sealed class EventTextTests
{
    private static readonly DateTimeOffset s_time = new(2026, 11, 21, 17, 5, 1, TimeSpan.Zero);

    [Fact]
    public void Render_Instance_TimeSeqLabelTypeMessage() =>
        Assert.Equal("2026-11-21 17:05:01  #42  web#0  exited  exit code 1 after 2.3s",
            EventText.Render(new TendEvent(42, s_time, "exited", "web", 0, 4711, "exit code 1 after 2.3s"), TimeZoneInfo.Utc, color: false));

    [Fact]
    public void Render_AppSupervisorAndNotice_NameTheirSubject()
    {
        Assert.Equal("2026-11-21 17:05:01  #7  web  scaled  scaled from 2 to 4 instances",
            EventText.Render(new TendEvent(7, s_time, "scaled", "web", null, null, "scaled from 2 to 4 instances"), TimeZoneInfo.Utc, color: false));
        Assert.Equal("2026-11-21 17:05:01  #8  supervisor backend  auto_shutdown  x",
            EventText.Render(new TendEvent(8, s_time, "auto_shutdown", null, null, null, "x", new Dictionary<string, string> { ["supervisor"] = "backend" }), TimeZoneInfo.Utc, color: false));
        Assert.Equal("2026-11-21 17:05:01  -  tend  events_dropped  3 events not delivered",
            EventText.Render(new TendEvent(0, s_time, "events_dropped", null, null, null, "3 events not delivered"), TimeZoneInfo.Utc, color: false));
    }

    [Fact]
    public void BuildPath_FollowAndAfter()
    {
        Assert.Equal("/v1/events?follow=true", EventsCommand.BuildPath(null, follow: true));
        Assert.Equal("/v1/events?follow=false&after=42", EventsCommand.BuildPath(42, follow: false));
    }
}
