using Tend.Config;
using Tend.Supervision;

namespace Tend.Tests.Supervision;

/// <summary>
/// The supervisor's decisions without processes: every strategy × failed child (first, middle,
/// last) × its restart type × a normal or abnormal exit, then siblings that are temporary or
/// stopped by the user, and auto_shutdown.
/// </summary>
public sealed class SupervisorDecisionsTests
{
    private static readonly SupervisorStrategy[] s_strategies = [SupervisorStrategy.OneForOne, SupervisorStrategy.OneForAll, SupervisorStrategy.RestForOne];
    private static readonly RestartPolicy[] s_restarts = [RestartPolicy.Always, RestartPolicy.OnFailure, RestartPolicy.Never];

    /// <summary>With permanent, wanted siblings: what stops (in order) and what starts (in order) when the failed child restarts.</summary>
    private static readonly Dictionary<(SupervisorStrategy, int), (string Stop, string Start)> s_restartedPlans = new()
    {
        [(SupervisorStrategy.OneForOne, 0)] = ("0", "0"),
        [(SupervisorStrategy.OneForOne, 1)] = ("1", "1"),
        [(SupervisorStrategy.OneForOne, 2)] = ("2", "2"),
        [(SupervisorStrategy.OneForAll, 0)] = ("2,1,0", "0,1,2"),
        [(SupervisorStrategy.OneForAll, 1)] = ("2,1,0", "0,1,2"),
        [(SupervisorStrategy.OneForAll, 2)] = ("2,1,0", "0,1,2"),
        [(SupervisorStrategy.RestForOne, 0)] = ("2,1,0", "0,1,2"),
        [(SupervisorStrategy.RestForOne, 1)] = ("2,1", "1,2"),
        [(SupervisorStrategy.RestForOne, 2)] = ("2", "2"),
    };

    public static IEnumerable<object[]> AllCases() =>
        from strategy in s_strategies
        from failed in new[] { 0, 1, 2 }
        from restart in s_restarts
        from abnormal in new[] { false, true }
        select new object[] { strategy, failed, restart, abnormal };

    [Theory]
    [MemberData(nameof(AllCases))]
    public void Plan_EveryStrategyFailedChildRestartTypeAndExit(SupervisorStrategy strategy, int failed, RestartPolicy restart, bool abnormal)
    {
        var children = new List<ChildView> { new(RestartPolicy.Always, true), new(RestartPolicy.Always, true), new(RestartPolicy.Always, true) };
        children[failed] = new ChildView(restart, true);

        RestartPlan plan = SupervisorDecisions.Plan(strategy, children, failed, abnormal);

        bool restarts = restart == RestartPolicy.Always || (restart == RestartPolicy.OnFailure && abnormal);
        var (stop, start) = restarts ? s_restartedPlans[(strategy, failed)] : ("", "");
        Assert.Equal((stop, start), (string.Join(",", plan.Stop), string.Join(",", plan.Start)));
    }

    [Theory]
    [InlineData(RestartPolicy.Always, false, true)]
    [InlineData(RestartPolicy.Always, true, true)]
    [InlineData(RestartPolicy.OnFailure, false, false)]
    [InlineData(RestartPolicy.OnFailure, true, true)]
    [InlineData(RestartPolicy.Never, false, false)]
    [InlineData(RestartPolicy.Never, true, false)]
    public void Restarts_PermanentTransientTemporary(RestartPolicy restart, bool abnormal, bool expected) =>
        Assert.Equal(expected, SupervisorDecisions.Restarts(restart, abnormal));

    [Theory]
    [InlineData(SupervisorStrategy.OneForAll, 0, "3,2,1,0", "0,1,3")]
    [InlineData(SupervisorStrategy.OneForAll, 1, "3,2,1,0", "0,1,3")]
    [InlineData(SupervisorStrategy.OneForAll, 3, "3,2,1,0", "0,1,3")]
    [InlineData(SupervisorStrategy.RestForOne, 0, "3,2,1,0", "0,1,3")]
    [InlineData(SupervisorStrategy.RestForOne, 1, "3,2,1", "1,3")]
    [InlineData(SupervisorStrategy.RestForOne, 3, "3", "3")]
    public void Plan_TemporarySibling_StoppedButNotStartedAgain_TransientOneIs(SupervisorStrategy strategy, int failed, string stop, string start)
    {
        // 0 and 1 permanent, 2 temporary, 3 transient.
        ChildView[] children = [new(RestartPolicy.Always, true), new(RestartPolicy.Always, true), new(RestartPolicy.Never, true), new(RestartPolicy.OnFailure, true)];

        RestartPlan plan = SupervisorDecisions.Plan(strategy, children, failed, abnormal: true);

        Assert.Equal((stop, start), (string.Join(",", plan.Stop), string.Join(",", plan.Start)));
    }

    [Theory]
    [InlineData(SupervisorStrategy.OneForAll, 0, "0,2")]
    [InlineData(SupervisorStrategy.OneForAll, 2, "0,2")]
    [InlineData(SupervisorStrategy.RestForOne, 0, "0,2")]
    [InlineData(SupervisorStrategy.RestForOne, 1, "2")]
    [InlineData(SupervisorStrategy.OneForOne, 1, "")]
    public void Plan_UserStoppedChild_IsNeverStartedAgain_EvenTheFailedOne(SupervisorStrategy strategy, int failed, string start)
    {
        // 1 was stopped by the user (no longer wanted), possibly after it failed and before the supervisor acted.
        ChildView[] children = [new(RestartPolicy.Always, true), new(RestartPolicy.Always, false), new(RestartPolicy.Always, true)];

        RestartPlan plan = SupervisorDecisions.Plan(strategy, children, failed, abnormal: true);

        Assert.Equal(start, string.Join(",", plan.Start));
    }

    [Fact]
    public void Plan_FailedChildOutOfRange_Throws() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => SupervisorDecisions.Plan(SupervisorStrategy.OneForOne, [new(RestartPolicy.Always, true)], 1, true));

    [Theory]
    // children: 0 permanent, 1 and 2 significant; which of 1 and 2 have ended, which just ended
    [InlineData(AutoShutdown.Never, true, false, 1, false)]
    [InlineData(AutoShutdown.Never, true, true, 2, false)]
    [InlineData(AutoShutdown.AnySignificant, true, false, 1, true)]
    [InlineData(AutoShutdown.AnySignificant, false, true, 2, true)]
    [InlineData(AutoShutdown.AllSignificant, true, false, 1, false)]
    [InlineData(AutoShutdown.AllSignificant, false, true, 2, false)]
    [InlineData(AutoShutdown.AllSignificant, true, true, 2, true)]
    [InlineData(AutoShutdown.AnySignificant, false, false, 1, false)] // reported ended but restarted since
    public void AutoShutsDown_SignificantChildEnded(AutoShutdown mode, bool firstEnded, bool secondEnded, int ended, bool expected)
    {
        ChildView[] children =
        [
            new(RestartPolicy.Always, true),
            new(RestartPolicy.OnFailure, true, Significant: true, Ended: firstEnded),
            new(RestartPolicy.Never, true, Significant: true, Ended: secondEnded),
        ];

        Assert.Equal(expected, SupervisorDecisions.AutoShutsDown(mode, children, ended));
    }

    [Fact]
    public void AutoShutsDown_NonSignificantChildEnded_Never()
    {
        ChildView[] children = [new(RestartPolicy.Never, true, Significant: false, Ended: true), new(RestartPolicy.Never, true, Significant: true, Ended: true)];

        Assert.False(SupervisorDecisions.AutoShutsDown(AutoShutdown.AnySignificant, children, 0));
    }
}
