using Tend.Api;
using Tend.Cli.Monit;

namespace Tend.Tests.Cli.Monit;

public sealed class MonitStateTests
{
    internal static readonly DateTimeOffset s_now = new(2026, 11, 21, 18, 30, 5, TimeSpan.Zero);

    internal static InstanceInfo Row(int id, string name, int instance = 0, string status = "online", double cpu = 0, long memory = 0, int restarts = 0) =>
        new(id, name, instance, status == "online" ? 1000 + id : null, status, Ready: true, restarts, UptimeMs: 65_000, cpu, memory, null, null);

    internal static MonitState Empty => new() { Home = "/tmp/tend-home", Now = s_now };

    [Fact]
    public void WithList_FirstList_SelectsTheFirstRow()
    {
        MonitState state = Empty.WithList([Row(0, "web"), Row(1, "api")], s_now);

        Assert.Equal("web#0", state.SelectedKey);
        Assert.Equal("web", state.SelectedApp);
    }

    [Fact]
    public void WithList_RowsReordered_SelectionStaysOnTheSameInstance()
    {
        MonitState state = Empty.WithList([Row(0, "web"), Row(1, "api")], s_now).MoveSelection(1);

        state = state.WithList([Row(1, "api"), Row(0, "web"), Row(2, "db")], s_now);

        Assert.Equal("api#0", state.SelectedKey);
        Assert.Equal(0, state.SelectedIndex);
    }

    [Fact]
    public void WithList_SelectedInstanceGone_SelectsTheRowAtTheSamePosition()
    {
        MonitState state = Empty.WithList([Row(0, "a"), Row(1, "b"), Row(2, "c")], s_now).MoveSelection(2);

        Assert.Equal("b", state.WithList([Row(0, "a"), Row(1, "b")], s_now).SelectedApp); // the last row now
        Assert.Equal("d", state.WithList([Row(0, "a"), Row(1, "b"), Row(3, "d")], s_now).SelectedApp);
        Assert.Equal("a", state.WithList([Row(0, "a"), Row(2, "c")], s_now).WithList([Row(0, "a")], s_now).SelectedApp);
        Assert.Null(state.WithList([], s_now).SelectedKey);
    }

    [Fact]
    public void MoveSelection_StopsAtBothEnds()
    {
        MonitState state = Empty.WithList([Row(0, "a"), Row(1, "b"), Row(2, "c")], s_now);

        Assert.Equal("a", state.MoveSelection(-1).SelectedApp);
        Assert.Equal("c", state.MoveSelection(5).SelectedApp);
        Assert.Equal("c", state.MoveSelection(int.MaxValue).SelectedApp);
        Assert.Equal("a", state.MoveSelection(2).MoveSelection(int.MinValue).SelectedApp);
    }

    [Fact]
    public void WithList_EachListIsOneSample_KeptForTheLastMinuteOnly()
    {
        MonitState state = Empty;
        for (int i = 1; i <= MonitState.HistoryLength + 5; i++)
            state = state.WithList([Row(0, "web", cpu: i, memory: i * 1000)], s_now);

        InstanceHistory history = state.HistoryOf(state.Rows[0]);
        Assert.Equal(Enumerable.Range(6, MonitState.HistoryLength).Select(i => (double)i), history.Cpu);
        Assert.Equal(Enumerable.Range(6, MonitState.HistoryLength).Select(i => i * 1000.0), history.Memory);
    }

    [Fact]
    public void WithList_InstanceGone_ItsHistoryIsDropped()
    {
        MonitState state = Empty.WithList([Row(0, "web"), Row(1, "api")], s_now).WithList([Row(0, "web")], s_now);

        Assert.Equal(["web#0"], state.History.Keys);
    }

    [Fact]
    public void WithDaemonError_KeepsTheLastRows_AndTheNextListClearsIt()
    {
        MonitState state = Empty.WithList([Row(0, "web")], s_now).WithDaemonError("no daemon running", s_now);

        Assert.Equal("no daemon running", state.DaemonError);
        Assert.Single(state.Rows);
        Assert.Null(state.WithList([Row(0, "web")], s_now).DaemonError);
    }

    [Fact]
    public void WithLogLine_KeepsTheNewestLinesOnly_AndFollowingAnotherAppStartsEmpty()
    {
        MonitState state = Empty.WithLogFollowing("web");
        for (int i = 0; i < MonitState.LogCapacity + 3; i++)
            state = state.WithLogLine(new LogLineDto(null, "web", 0, "out", "line " + i));

        Assert.Equal(MonitState.LogCapacity, state.Log.Count);
        Assert.Equal("line 3", state.Log[0].Text);
        Assert.Equal("line " + (MonitState.LogCapacity + 2), state.Log[^1].Text);

        MonitState other = state.WithLogProblem("gone").WithLogFollowing("api");
        Assert.Equal("api", other.LogApp);
        Assert.Empty(other.Log);
        Assert.Null(other.LogProblem);
    }
}
