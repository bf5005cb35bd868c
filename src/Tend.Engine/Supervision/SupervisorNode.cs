using Microsoft.Extensions.Logging;
using Tend.Config;

namespace Tend.Supervision;

/// <summary>A child of a <see cref="SupervisorNode"/>: an app or another supervisor.</summary>
internal abstract class TreeChild
{
    public abstract string Name { get; }

    /// <summary>The child's restart type: always = permanent, on-failure = transient, never = temporary.</summary>
    public abstract RestartPolicy Restart { get; }

    /// <summary>False once the user stopped it: a sibling's failure does not bring it back.</summary>
    public abstract bool Wanted { get; }

    public abstract bool Significant { get; }

    /// <summary>It has exited and nothing will restart it.</summary>
    public abstract bool Ended { get; }

    public abstract Task StartAsync();
    public abstract Task StopAsync();
}

internal sealed class AppChild(App app, Func<App, Task> start) : TreeChild
{
    public App App { get; } = app;
    public override string Name => App.Name;
    public override RestartPolicy Restart => App.Spec.Restart;
    public override bool Wanted => App.Instances.Any(i => i.WantedRunning);
    public override bool Significant => App.Spec.Significant;
    public override bool Ended => App.Instances.All(i => i.Status is InstanceStatus.Stopped or InstanceStatus.Errored or InstanceStatus.Blocked);
    public override Task StartAsync() => start(App);
    public override Task StopAsync() => App.StopAsync();
}

internal sealed class NodeChild(SupervisorNode node) : TreeChild
{
    public SupervisorNode Node { get; } = node;
    public override string Name => Node.Name;
    public override RestartPolicy Restart => Node.Spec.Restart;
    public override bool Wanted => Node.Status != SupervisorNode.Stopped;
    public override bool Significant => Node.Spec.Significant;
    public override bool Ended => Node.Status != SupervisorNode.Running;
    public override Task StartAsync() => Node.StartAsync();
    public override Task StopAsync() => Node.StopAsync();
}

/// <summary>
/// One supervisor of a running tree. It does not own processes: its apps' instances run their own
/// loops and report each exit they would restart after (<see cref="OnInstanceExit"/>). Under
/// one_for_one the instance restarts itself, with its own backoff; under one_for_all and
/// rest_for_one the node takes over and restarts siblings in order, at once.
///
/// Every restart, whoever carries it out, counts towards the node's intensity, on monotonic
/// timestamps from the tree's TimeProvider. More than max_restarts within `within` and the node
/// stops its children in reverse order and fails to its parent, which treats it as a child that
/// exited: a permanent node is restarted fresh (history cleared) and counts towards the parent's
/// intensity; a transient or temporary one stays down. When the root fails, the tree is failed.
///
/// All structural work (stopping and starting children) runs on the <see cref="TreeRunner"/>, one
/// piece at a time, never on an instance's own loop, which would otherwise wait for itself.
/// </summary>
internal sealed class SupervisorNode
{
    public const string Running = "running";
    public const string Stopped = "stopped";
    public const string Failed = "failed";

    private readonly TreeRunner _runner;
    private readonly Lock _gate = new();
    private readonly RestartIntensity _intensity;
    private readonly int _maxRestarts;
    private readonly TimeSpan _within;
    private string _status = Stopped;

    public SupervisorNode(SupervisorSpec spec, SupervisorNode? parent, TreeRunner runner)
    {
        Spec = spec;
        Parent = parent;
        _runner = runner;
        // A root saved by an older daemon has max_restarts int.MaxValue ("never gives up on its
        // apps"), from before its intensity was configurable: the default it had then.
        (_maxRestarts, _within) = parent is null && spec.MaxRestarts == int.MaxValue
            ? (SupervisorSpec.RootMaxRestarts, SupervisorSpec.RootWithin)
            : (spec.MaxRestarts, spec.Within);
        _intensity = new RestartIntensity(_maxRestarts, _within, runner.Time);
    }

    public SupervisorSpec Spec { get; }
    public string Name => Spec.Name;
    public SupervisorNode? Parent { get; }
    public List<TreeChild> Children { get; } = [];
    public string Status { get { lock (_gate) return _status; } }
    public int Restarts { get { lock (_gate) return _intensity.Total; } }
    public int MaxRestarts => _maxRestarts;
    public TimeSpan Within => _within;
    public string? FailureReason { get; private set; }
    public bool IsRoot => Parent is null;

    public IEnumerable<SupervisorNode> SelfAndDescendants() =>
        Children.OfType<NodeChild>().SelectMany(c => c.Node.SelfAndDescendants()).Prepend(this);

    /// <summary>Children in order, each after the one before has started.</summary>
    public async Task StartAsync()
    {
        lock (_gate) { _status = Running; FailureReason = null; _intensity.Clear(); }
        _runner.Changed();
        foreach (TreeChild child in Children.ToList()) await child.StartAsync().ConfigureAwait(false);
    }

    /// <summary>
    /// For a tree rebuilt over instances being restored: the status the state file recorded,
    /// without starting or stopping anything (the instances come back as they were wanted).
    /// Anything unknown, or a file without statuses, comes back running, as before they were kept.
    /// </summary>
    public void Restore(string? status, string? reason)
    {
        lock (_gate)
        {
            _status = status is Stopped or Failed ? status : Running;
            FailureReason = _status == Running ? null : reason;
        }
    }

    /// <summary>Children in reverse order, each after the one after it has exited.</summary>
    public async Task StopAsync()
    {
        foreach (TreeChild child in Enumerable.Reverse(Children.ToList())) await child.StopAsync().ConfigureAwait(false);
        lock (_gate) _status = Stopped;
        _runner.Changed();
    }

    /// <summary>
    /// An instance of one of our apps exited and its restart policy restarts it. Returns null when
    /// the instance should restart itself (one_for_one), else why its loop ends (the node acts).
    /// Called on the instance's loop: must not wait for the tree.
    /// </summary>
    public string? OnInstanceExit(App app, Instance instance, string exit)
    {
        TreeChild? child = Children.FirstOrDefault(c => c is AppChild a && a.App == app);
        if (child is null || _runner.Closed) return null;
        string cause = $"{instance.Label} exited ({exit})";
        if (!CountRestart())
        {
            string reason = GaveUpReason(cause);
            _runner.Enqueue(() => FailAsync(reason));
            return reason;
        }
        if (Spec.Strategy == SupervisorStrategy.OneForOne)
        {
            if (!IsRoot)
            {
                TreeLog.Restart(_runner.Logger, Name, "one_for_one", cause, instance.Label);
                _runner.PublishRestart(Name, "one_for_one", instance.Label, cause, instance.Label);
            }
            return null;
        }
        string strategy = Spec.Strategy == SupervisorStrategy.OneForAll ? "one_for_all" : "rest_for_one";
        _runner.Enqueue(() => RestartFromAsync(child, cause, strategy));
        return $"{strategy} restart by supervisor {Name} after {cause}";
    }

    /// <summary>
    /// An instance of one of our apps exited for good (its policy does not restart it, or its
    /// crash-loop guard gave up). With auto_shutdown, a significant app may end the supervisor.
    /// </summary>
    public void OnInstanceEnded(App app, string cause)
    {
        if (!app.Spec.Significant || Spec.AutoShutdown == AutoShutdown.Never || _runner.Closed) return;
        TreeChild? child = Children.FirstOrDefault(c => c is AppChild a && a.App == app);
        if (child is not null) _runner.Enqueue(() => OnChildEndedAsync(child, cause));
    }

    /// <summary>auto_shutdown: any_significant shuts down on the first significant child to end, all_significant on the last.</summary>
    private async Task OnChildEndedAsync(TreeChild child, string cause)
    {
        int at = Children.IndexOf(child);
        if (Status != Running || at < 0 || !SupervisorDecisions.AutoShutsDown(Spec.AutoShutdown, Views(), at)) return;
        string reason = $"auto_shutdown ({(Spec.AutoShutdown == AutoShutdown.AnySignificant ? "any_significant" : "all_significant")}): {cause}";
        TreeLog.AutoShutdown(_runner.Logger, Name, reason);
        _runner.Publish(Events.EventTypes.AutoShutdown, $"supervisor {Name} shutting down: {reason}", new() { ["supervisor"] = Name, ["reason"] = reason });
        await StopAsync().ConfigureAwait(false);
        lock (_gate) FailureReason = reason;
        _runner.Changed();
        if (Parent is not null) await Parent.OnChildShutDownAsync(this, reason).ConfigureAwait(false);
    }

    /// <summary>
    /// A sub-supervisor shut itself down (auto_shutdown), a normal exit: a permanent one is
    /// restarted anyway (as in OTP, which is why such supervisors are usually transient); any
    /// other stays down and may end us in turn if it is significant.
    /// </summary>
    private async Task OnChildShutDownAsync(SupervisorNode node, string reason)
    {
        if (Status != Running || _runner.Closed) return;
        TreeChild child = Children.First(c => c is NodeChild n && n.Node == node);
        if (node.Spec.Restart == RestartPolicy.Always)
        {
            await RestartChildAsync(node, child, $"supervisor {node.Name} shut down ({reason})").ConfigureAwait(false);
            return;
        }
        await OnChildEndedAsync(child, $"supervisor {node.Name} shut down").ConfigureAwait(false);
    }

    /// <summary>Records one restart; false when that makes more than max_restarts within the period.</summary>
    private bool CountRestart(bool ofSupervisor = false)
    {
        // The root (no limit of its own) leaves its apps' restarts to their crash-loop guards
        // and counts only its supervisors', with a fixed intensity.
        if (IsRoot && !ofSupervisor) return true;
        lock (_gate) return _intensity.TryRecord();
    }

    private string GaveUpReason(string cause) =>
        $"supervisor {Name} gave up: more than {_maxRestarts} restarts within {Config.Units.FormatDuration(_within)}; last: {cause}";

    /// <summary>one_for_all / rest_for_one: stop the affected siblings in reverse order, start them again in order.</summary>
    private async Task RestartFromAsync(TreeChild failed, string cause, string strategy)
    {
        if (Status != Running) return;
        int at = Children.IndexOf(failed);
        if (at < 0) return;
        // The failed child's own policy already said it restarts (abnormal: the instance's guard
        // knows stop_exit_codes; a permanent supervisor comes back after any exit). Who comes back
        // with it, see SupervisorDecisions.Plan: a child the user stopped stays stopped, even the
        // failed one if the user's stop came in before this restart. The user's commands run on
        // the runner too, so this decision cannot go stale while we act on it.
        var children = Children.ToList();
        RestartPlan plan = SupervisorDecisions.Plan(Spec.Strategy, Views(children), at, abnormal: true);
        var again = plan.Start.Select(i => children[i]).ToList();
        TreeLog.Restart(_runner.Logger, Name, strategy, cause, again.Count == 0 ? "nothing" : string.Join(", ", again.Select(c => c.Name)));
        _runner.PublishRestart(Name, strategy, failed.Name, cause, again.Count == 0 ? "nothing" : string.Join(", ", again.Select(c => c.Name)));
        foreach (int i in plan.Stop) await children[i].StopAsync().ConfigureAwait(false);
        foreach (TreeChild child in again)
        {
            if (_runner.Closed) return;
            await child.StartAsync().ConfigureAwait(false);
        }
    }

    private List<ChildView> Views(List<TreeChild>? children = null) =>
        [.. (children ?? Children).Select(c => new ChildView(c.Restart, c.Wanted, c.Significant, c.Ended))];

    /// <summary>Intensity exceeded: stop everything in reverse order, then fail to the parent.</summary>
    private async Task FailAsync(string reason)
    {
        if (Status != Running) return;
        TreeLog.GaveUp(_runner.Logger, Name, reason);
        _runner.Publish(Events.EventTypes.SupervisorFailed, $"supervisor {Name} gave up: {reason}", new()
        {
            ["supervisor"] = Name,
            ["reason"] = reason,
            ["root"] = Parent is null ? "true" : "false",
        });
        await StopAsync().ConfigureAwait(false);
        lock (_gate) { _status = Failed; FailureReason = reason; }
        _runner.Changed();
        if (Parent is null)
        {
            TreeLog.TreeFailed(_runner.Logger, Name, reason);
            return;
        }
        await Parent.OnChildFailedAsync(this, reason).ConfigureAwait(false);
    }

    /// <summary>A sub-supervisor gave up. Runs on the tree runner already.</summary>
    private async Task OnChildFailedAsync(SupervisorNode node, string reason)
    {
        if (Status != Running || _runner.Closed) return;
        TreeChild child = Children.First(c => c is NodeChild n && n.Node == node);
        if (node.Spec.Restart != RestartPolicy.Always)
        {
            TreeLog.NotRestarted(_runner.Logger, Name, node.Name, RestartTracker.Describe(node.Spec.Restart));
            await OnChildEndedAsync(child, $"supervisor {node.Name} failed").ConfigureAwait(false);
            return;
        }
        await RestartChildAsync(node, child, $"supervisor {node.Name} failed ({reason})").ConfigureAwait(false);
    }

    /// <summary>A permanent sub-supervisor ended: counted, then restarted fresh by our strategy.</summary>
    private async Task RestartChildAsync(SupervisorNode node, TreeChild child, string cause)
    {
        if (!CountRestart(ofSupervisor: true))
        {
            await FailAsync(GaveUpReason(cause)).ConfigureAwait(false);
            return;
        }
        if (Spec.Strategy == SupervisorStrategy.OneForOne)
        {
            TreeLog.Restart(_runner.Logger, Name, "one_for_one", cause, node.Name);
            _runner.PublishRestart(Name, "one_for_one", node.Name, cause, node.Name);
            await node.StartAsync().ConfigureAwait(false);
            return;
        }
        await RestartFromAsync(child, cause, Spec.Strategy == SupervisorStrategy.OneForAll ? "one_for_all" : "rest_for_one").ConfigureAwait(false);
    }
}

/// <summary>Runs a tree's structural work one piece at a time, off the instances' loops.</summary>
internal sealed class TreeRunner(TimeProvider time, ILogger logger, Action? changed = null, Events.EventHub? events = null)
{
    private readonly SemaphoreSlim _lock = new(1, 1);
    private readonly Lock _gate = new();
    private Task _last = Task.CompletedTask;

    public TimeProvider Time { get; } = time;
    public ILogger Logger { get; } = logger;

    /// <summary>A supervisor's action, on the daemon's event stream.</summary>
    public void Publish(string type, string message, Dictionary<string, string> data) =>
        events?.Publish(type, null, null, null, message, data);

    public void PublishRestart(string supervisor, string strategy, string failed, string cause, string restarted) =>
        Publish(Events.EventTypes.SupervisorRestart, $"supervisor {supervisor} ({strategy}) restarting {restarted} after {cause}", new()
        {
            ["supervisor"] = supervisor,
            ["strategy"] = strategy,
            ["failed"] = failed,
            ["cause"] = cause,
            ["restarted"] = restarted,
        });

    /// <summary>A supervisor's status changed: the state file records it.</summary>
    public void Changed() => changed?.Invoke();

    /// <summary>Set when the daemon shuts down or the tree is replaced: no more restarts.</summary>
    public volatile bool Closed;

    public void Enqueue(Func<Task> work)
    {
        lock (_gate) _last = Task.Run(() => RunAsync(work));
    }

    /// <summary>Run <paramref name="work"/> exclusively with the restarts the tree carries out.</summary>
    public async Task RunAsync(Func<Task> work)
    {
        await _lock.WaitAsync().ConfigureAwait(false);
        try
        {
            if (!Closed) await work().ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            TreeLog.InternalError(Logger, ex.ToString());
        }
        finally { _lock.Release(); }
    }

    /// <summary>
    /// A user's command on apps of the tree (stop, restart): exclusively with the tree's own
    /// restarts, so it sees a restart whole (before or after, never halfway) and the last word is
    /// the user's. Unlike <see cref="RunAsync"/>, it runs when closed too, and errors reach the caller.
    /// </summary>
    public async Task<T> ExclusiveAsync<T>(Func<Task<T>> work)
    {
        await _lock.WaitAsync().ConfigureAwait(false);
        try { return await work().ConfigureAwait(false); }
        finally { _lock.Release(); }
    }

    /// <summary>Close and wait for the work under way to end.</summary>
    public async Task CloseAsync()
    {
        Closed = true;
        await _lock.WaitAsync().ConfigureAwait(false);
        _lock.Release();
    }
}

internal static partial class TreeLog
{
    [LoggerMessage(4001, LogLevel.Warning, "supervisor {Supervisor} ({Strategy}) restarting {Restarted} after {Cause}")]
    public static partial void Restart(ILogger logger, string supervisor, string strategy, string cause, string restarted);

    [LoggerMessage(4002, LogLevel.Error, "supervisor {Supervisor} giving up, stopping its children: {Reason}")]
    public static partial void GaveUp(ILogger logger, string supervisor, string reason);

    [LoggerMessage(4003, LogLevel.Error, "supervision tree failed: {Supervisor} gave up ({Reason}); the daemon stays up, restart with tend start")]
    public static partial void TreeFailed(ILogger logger, string supervisor, string reason);

    [LoggerMessage(4004, LogLevel.Warning, "supervisor {Supervisor} does not restart failed child supervisor {Child} (restart: {Restart})")]
    public static partial void NotRestarted(ILogger logger, string supervisor, string child, string restart);

    [LoggerMessage(4006, LogLevel.Information, "supervisor {Supervisor} shutting down: {Reason}")]
    public static partial void AutoShutdown(ILogger logger, string supervisor, string reason);

    [LoggerMessage(4005, LogLevel.Error, "supervision tree internal error: {Error}")]
    public static partial void InternalError(ILogger logger, string error);
}
