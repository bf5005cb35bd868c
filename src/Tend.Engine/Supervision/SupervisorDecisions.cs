using Tend.Config;

namespace Tend.Supervision;

/// <summary>What a supervisor knows about one child when it decides: its restart type, whether it is still wanted, whether it is significant and has ended.</summary>
internal readonly record struct ChildView(RestartPolicy Restart, bool Wanted, bool Significant = false, bool Ended = false);

/// <summary>Children to stop (in this order: reverse start order) and then to start (in start order), by index.</summary>
internal sealed record RestartPlan(IReadOnlyList<int> Stop, IReadOnlyList<int> Start)
{
    public static RestartPlan None { get; } = new([], []);
}

/// <summary>
/// The decisions of an OTP supervisor, with nothing else: no processes, no clock, no locks.
/// <see cref="SupervisorNode"/> asks these and carries the answers out; the unit tests check
/// them case by case (strategy × which child failed × restart type × how it exited).
/// </summary>
internal static class SupervisorDecisions
{
    /// <summary>Whether a child's exit restarts it: permanent always, transient after an abnormal exit, temporary never.</summary>
    public static bool Restarts(RestartPolicy restart, bool abnormal) => restart switch
    {
        RestartPolicy.Always => true,
        RestartPolicy.OnFailure => abnormal,
        _ => false,
    };

    /// <summary>
    /// Child <paramref name="failed"/> exited. If its restart type restarts it: one_for_one stops
    /// and starts it alone; one_for_all stops every child in reverse order and starts them in
    /// order; rest_for_one does that for it and the children after it. Of the stopped children,
    /// only wanted ones start again (one the user stopped stays stopped, the failed one too), and
    /// no temporary sibling (OTP: it was terminated because of a sibling, and is not restarted).
    /// </summary>
    public static RestartPlan Plan(SupervisorStrategy strategy, IReadOnlyList<ChildView> children, int failed, bool abnormal)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(failed);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(failed, children.Count);
        if (!Restarts(children[failed].Restart, abnormal)) return RestartPlan.None;
        IEnumerable<int> affected = strategy switch
        {
            SupervisorStrategy.OneForAll => Enumerable.Range(0, children.Count),
            SupervisorStrategy.RestForOne => Enumerable.Range(failed, children.Count - failed),
            _ => [failed],
        };
        var list = affected.ToList();
        var start = list.Where(i => children[i].Wanted && (i == failed || children[i].Restart != RestartPolicy.Never)).ToList();
        list.Reverse();
        return new RestartPlan(list, start);
    }

    /// <summary>
    /// A significant child ended (exited and is not restarted): does the supervisor shut down?
    /// any_significant: yes; all_significant: once no significant child is left running; never: no.
    /// </summary>
    public static bool AutoShutsDown(AutoShutdown mode, IReadOnlyList<ChildView> children, int ended)
    {
        if (mode == AutoShutdown.Never || !children[ended].Significant || !children[ended].Ended) return false;
        return mode == AutoShutdown.AnySignificant || children.Where(c => c.Significant).All(c => c.Ended);
    }
}
