using Tend.Api;
using Tend.Cli.Monit;
using static Tend.Tests.Cli.Monit.MonitStateTests;

namespace Tend.Tests.Cli.Monit;

/// <summary>The screen drawn from state values, as plain text (no colours), at fixed sizes.</summary>
public sealed class MonitScreenTests
{
    private static string[] Lines(MonitState state, int width, int height)
    {
        string[] lines = MonitScreen.Render(state, width, height, color: false).Split('\n');
        // Every frame fills the terminal exactly: no line wraps, none is missing.
        Assert.Equal(height, lines.Length);
        Assert.All(lines, l => Assert.Equal(width, CellText.Width(l)));
        return lines;
    }

    private static MonitState TwoApps()
    {
        MonitState state = Empty;
        foreach (double cpu in new double[] { 0, 50, 100 })
            state = state.WithList([Row(0, "web", cpu: cpu, memory: 12 * 1024 * 1024), Row(1, "worker", status: "errored", restarts: 3)], s_now);
        return state.WithLogFollowing("web")
            .WithLogLine(new LogLineDto(null, "web", 0, "out", "listening on :8080"))
            .WithLogLine(new LogLineDto(null, "web", 0, "err", "\u001b[31mslow request\u001b[0m"));
    }

    [Fact]
    public void Render_Wide_ShowsEveryColumnSparklinesAndTheLogTail()
    {
        string[] lines = Lines(TwoApps(), 160, 30);

        Assert.StartsWith("tend monit  2 instances, 1 errored, 1 online  ·  /tmp/tend-home", lines[0]);
        Assert.EndsWith("18:30:05", lines[0]);
        Assert.Contains("instances", lines[1]);
        string header = lines[2];
        foreach (string column in new[] { "id", "name", "pid", "status", "ready", "↺", "uptime", "cpu", "mem" })
            Assert.Contains(column, header);
        string web = Assert.Single(lines, l => l.Contains("web#0", StringComparison.Ordinal) && l.Contains("online", StringComparison.Ordinal));
        Assert.Contains("> ", web); // the selection marker
        Assert.Contains("1000", web);
        Assert.Contains("online", web);
        Assert.Contains("100%", web);
        Assert.Contains("▁▅█", web); // cpu 0, 50, 100
        Assert.Contains("12.0mb", web);
        Assert.Contains("███", web); // flat memory, at its peak
        string worker = Assert.Single(lines, l => l.Contains("worker#0", StringComparison.Ordinal));
        Assert.Contains("errored", worker);
        Assert.DoesNotContain(">", worker);

        Assert.Contains(lines, l => l.Contains("logs · web", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("web#0 listening on :8080", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("web#0 slow request", StringComparison.Ordinal)); // escapes from the app stripped
        Assert.StartsWith("↑↓ select  r restart  s stop  l reload  q quit", lines[^1]);
    }

    [Fact]
    public void Render_Narrow_DropsSparklinesAndCutsLongNames()
    {
        MonitState state = Empty.WithList([Row(0, "a-very-long-application-name-indeed"), Row(1, "web")], s_now);

        string[] lines = Lines(state, 60, 20);

        Assert.DoesNotContain(lines, l => l.Contains('▁') || l.Contains('█'));
        Assert.Contains(lines, l => l.Contains("a-very-", StringComparison.Ordinal) && l.Contains('…'));
        Assert.Contains(lines, l => l.Contains("web#0", StringComparison.Ordinal) && l.Contains("online", StringComparison.Ordinal));
        Assert.DoesNotContain("uptime", lines[2]);
    }

    [Fact]
    public void PlanColumns_DropsOptionalColumnsInOrder_AsTheWidthShrinks()
    {
        InstanceInfo[] rows = [Row(0, "web")];

        Assert.Equal(MonitScreen.MaxSparkWidth, MonitScreen.PlanColumns(rows, 300).SparkWidth);
        MonitScreen.ColumnPlan wide = MonitScreen.PlanColumns(rows, 156);
        Assert.InRange(wide.SparkWidth, 8, MonitScreen.MaxSparkWidth);
        Assert.True(wide.Id && wide.Pid && wide.Ready && wide.Uptime);

        MonitScreen.ColumnPlan medium = MonitScreen.PlanColumns(rows, 80);
        Assert.Equal(0, medium.SparkWidth);
        Assert.True(medium.Uptime);

        MonitScreen.ColumnPlan narrow = MonitScreen.PlanColumns(rows, 46);
        Assert.False(narrow.Uptime);
        Assert.True(narrow.NameWidth >= 5);
    }

    [Fact]
    public void Render_DaemonGone_SaysSoAndKeepsTheLastRows()
    {
        MonitState state = TwoApps().WithDaemonError("no daemon running (TEND_HOME=/tmp/tend-home)", s_now);

        string[] lines = Lines(state, 120, 24);

        Assert.Contains("daemon unreachable: no daemon running", lines[0]);
        Assert.Contains("instances (last known)", lines[1]);
        Assert.Contains(lines, l => l.Contains("web#0", StringComparison.Ordinal));
    }

    [Fact]
    public void Render_Notice_LeadsTheStatusLine()
    {
        MonitState state = TwoApps().WithNotice("18:30:04 restart web failed: unknown app", NoticeKind.Error);

        string[] lines = Lines(state, 120, 24);

        Assert.StartsWith("18:30:04 restart web failed: unknown app", lines[^1]);
        Assert.EndsWith("q quit", lines[^1]);
    }

    [Fact]
    public void Render_MoreRowsThanFit_ScrollsToKeepTheSelectionInView()
    {
        MonitState state = Empty.WithList([.. Enumerable.Range(0, 40).Select(i => Row(i, "app" + i))], s_now).MoveSelection(int.MaxValue);

        string[] lines = Lines(state, 120, 24);

        Assert.Contains(lines, l => l.Contains("> ", StringComparison.Ordinal) && l.Contains("app39#0", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.Contains("app0#0", StringComparison.Ordinal));
        Assert.Contains("of 40", lines[1]);
    }

    [Fact]
    public void Render_LogTail_ShowsTheNewestLinesThatFit()
    {
        MonitState state = Empty.WithList([Row(0, "web")], s_now).WithLogFollowing("web");
        for (int i = 0; i < 100; i++) state = state.WithLogLine(new LogLineDto(null, "web", 0, "out", "line " + i));

        string[] lines = Lines(state, 100, 20);

        Assert.Contains(lines, l => l.Contains("web#0 line 99 ", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.Contains("web#0 line 50 ", StringComparison.Ordinal));
    }

    [Fact]
    public void Render_NoApps_ShowsTheStartHint()
    {
        string[] lines = Lines(Empty.WithList([], s_now), 120, 20);

        Assert.Contains(lines, l => l.Contains("No apps yet.", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("no app selected", StringComparison.Ordinal));
    }

    [Fact]
    public void Render_TooSmall_SaysSoInsteadOfABrokenGrid()
    {
        string text = MonitScreen.Render(TwoApps(), 40, 10, color: false);

        Assert.StartsWith("terminal too small for tend monit", text);
        Assert.StartsWith("terminal too small for tend monit (200x11, needs 50x12); q quits", MonitScreen.Render(TwoApps(), 200, 11, color: false));
    }

    [Fact]
    public void Render_Color_EmitsAnsiStyles()
    {
        string text = MonitScreen.Render(TwoApps(), 120, 24, color: true);

        Assert.Contains("\u001b[", text);
        Assert.Contains("web#0", text);
    }
}
