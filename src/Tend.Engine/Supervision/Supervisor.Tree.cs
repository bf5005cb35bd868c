using Tend.Config;
using Tend.State;

namespace Tend.Supervision;

// The daemon runs at most one supervision tree, from the last config with supervisors: that was
// started. Its apps live in the same flat list as every other app (so list, logs, describe and
// the state file work unchanged), added in the tree's start order, so a stop of everything in
// reverse list order is also the tree's reverse start order. Each app knows its supervisor node;
// the nodes decide about restarts (see SupervisorNode).
public sealed partial class Supervisor
{
    private TreeRunner? _runner;
    private SupervisorNode? _treeRoot;

    /// <summary>Start a config with supervisors: replaces the running tree and any app of the same name.</summary>
    public async Task<CommandOutcome> StartTreeAsync(TendConfig config, CancellationToken ct = default)
    {
        await _ops.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            if (IsRunning(config))
                return new TreeAlreadyRunning(config.SourcePath);
            await DropTreeAsync().ConfigureAwait(false);
            var fresh = config.Apps.Where(a => _registry.Find(a.Name) is null).Select(a => a.Name).ToHashSet(StringComparer.Ordinal);
            foreach (AppSpec spec in config.Apps)
            {
                if (_registry.Find(spec.Name) is not App old) continue;
                EngineLog.AppReplaced(_logger, spec.Name);
                PublishApp(Tend.Events.EventTypes.AppReplaced, spec.Name, "spec changed: replacing its instances");
                await old.StopAsync().ConfigureAwait(false);
                RemoveApp(old);
            }
            var specs = config.Apps.ToDictionary(a => a.Name, StringComparer.Ordinal);
            var supervisors = config.Tree.Supervisors.ToDictionary(s => s.Name, StringComparer.Ordinal);
            var order = new List<string>();
            void Walk(SupervisorSpec s)
            {
                foreach (ChildRef c in s.Children)
                {
                    if (c.Kind == ChildKind.App) order.Add(c.Name);
                    else Walk(supervisors[c.Name]);
                }
            }
            SupervisorSpec root = config.Root;
            Walk(root);
            foreach (string name in order)
            {
                AppSpec spec = specs[name];
                App added = AddApp(spec, config.SourcePath, Enumerable.Range(0, spec.Instances).Select(_ => _registry.NextId()));
                if (fresh.Contains(spec.Name)) StartFreshLogs(added);
                EngineLog.AppAdded(_logger, spec.Name, spec.Instances);
                PublishApp(Tend.Events.EventTypes.AppAdded, spec.Name, $"added ({spec.Instances} instances)", new() { ["instances"] = Inv(spec.Instances) });
            }
            _runner = NewRunner();
            _treeRoot = BuildNode(root, null, _runner, supervisors);
            SupervisorNode started = _treeRoot;
            await _runner.RunAsync(started.StartAsync).ConfigureAwait(false);
            return new AppsStarted(order, []);
        }
        finally { _ops.Release(); _saver?.Request(); }
    }

    /// <summary>The root supervisor gave up (its restart intensity was exceeded).</summary>
    public bool TreeFailed => _treeRoot?.Status == SupervisorNode.Failed;

    /// <summary>
    /// True when no instance runs and none is about to: every one is stopped, errored or blocked.
    /// Asked between the tree's own restarts, never in the middle of one, where a one_for_all
    /// restart has stopped every sibling and not yet started them again.
    /// </summary>
    public async Task<bool> NothingRunsAsync()
    {
        bool Check() => Apps.SelectMany(a => a.Instances)
            .All(i => i.Status is InstanceStatus.Stopped or InstanceStatus.Errored or InstanceStatus.Blocked);
        if (_runner is { } runner) return await runner.ExclusiveAsync(() => Task.FromResult(Check())).ConfigureAwait(false);
        return Check();
    }

    /// <summary>The same tree and the same app specs are running, every instance as wanted: starting it again changes nothing.</summary>
    private bool IsRunning(TendConfig config)
    {
        if (_treeRoot is null || _treeRoot.Status != SupervisorNode.Running) return false;
        List<SupervisorSpec> wanted = [config.Root, .. config.Tree.Supervisors];
        var running = _treeRoot.SelfAndDescendants().Select(n => n.Spec).ToList();
        if (!wanted.OrderBy(s => s.Name, StringComparer.Ordinal).SequenceEqual(running.OrderBy(s => s.Name, StringComparer.Ordinal))) return false;
        return config.Apps.All(spec => _registry.Find(spec.Name) is App app && app.Node is not null && app.Spec == spec
            && app.Instances.All(i => i.WantedRunning && i.Status is not (InstanceStatus.Stopped or InstanceStatus.Errored or InstanceStatus.Blocked)));
    }

    private SupervisorNode BuildNode(SupervisorSpec spec, SupervisorNode? parent, TreeRunner runner, Dictionary<string, SupervisorSpec> supervisors)
    {
        var node = new SupervisorNode(spec, parent, runner);
        foreach (ChildRef child in spec.Children)
        {
            if (child.Kind == ChildKind.Supervisor)
            {
                if (supervisors.TryGetValue(child.Name, out SupervisorSpec? sub))
                    node.Children.Add(new NodeChild(BuildNode(sub, node, runner, supervisors)));
            }
            else if (_registry.Find(child.Name) is App app)
            {
                app.Node = node;
                node.Children.Add(new AppChild(app, _dependencies.StartAppAsync));
            }
        }
        return node;
    }

    /// <summary>Stop and remove the running tree's apps (reverse start order). Under <see cref="_ops"/>.</summary>
    private async Task DropTreeAsync()
    {
        if (_runner is null) return;
        await _runner.CloseAsync().ConfigureAwait(false);
        foreach (App app in Enumerable.Reverse(Apps).Where(a => a.Node is not null))
        {
            await app.StopAsync().ConfigureAwait(false);
            RemoveApp(app);
        }
        _runner = null;
        _treeRoot = null;
    }

    /// <summary>A supervisor of the running tree by name (never an app: apps are looked up first by the callers' targets).</summary>
    private SupervisorNode? FindNode(string name)
    {
        if (name == SupervisorSpec.RootName || _registry.Find(name) is not null) return null;
        return _treeRoot?.SelfAndDescendants().FirstOrDefault(n => n.Name == name);
    }

    /// <summary>True when <paramref name="name"/> is a supervisor of the running tree (and not an app).</summary>
    public bool IsSupervisor(string name) => FindNode(name) is not null;

    /// <summary>`tend start backend`: the supervisor's subtree, in order.</summary>
    public Task<CommandOutcome> StartSupervisorAsync(string name) =>
        FindNode(name) is { } node
            ? OnSubtreeAsync(node, InstanceVerb.Started, n => n.StartAsync())
            : throw new TargetNotFoundException($"unknown supervisor \"{name}\"");

    /// <summary>
    /// start, stop or restart of a supervisor: its subtree in order (stop in reverse), on the tree's
    /// runner so it never interleaves with a restart the tree is carrying out. A stopped
    /// supervisor restarts nothing until it is restarted.
    /// </summary>
    private async Task<CommandOutcome> OnSubtreeAsync(SupervisorNode node, InstanceVerb verb, Func<SupervisorNode, Task> action)
    {
        TreeRunner runner = _runner!;
        await runner.RunAsync(() => action(node)).ConfigureAwait(false);
        _saver?.Request();
        return new SubtreeActed(verb, node.Name, [.. AppsInOrder(node).SelectMany(a => a.Instances).Select(i => i.Label)]);
    }

    private static IEnumerable<App> AppsInOrder(SupervisorNode node) =>
        node.Children.SelectMany(c => c switch
        {
            AppChild a => [a.App],
            NodeChild n => AppsInOrder(n.Node),
            _ => [],
        });

    private TreeRunner NewRunner() => new(_time, _logger, OnStateChanged, Events);

    /// <summary>The running tree's supervisors, root first, and their statuses, for the state file.</summary>
    private (List<SupervisorSpec>? Specs, List<PersistedSupervisor>? Status) TreeSnapshot()
    {
        if (_treeRoot is null) return (null, null);
        var nodes = _treeRoot.SelfAndDescendants().ToList();
        return ([.. nodes.Select(n => n.Spec)], [.. nodes.Select(n => new PersistedSupervisor(n.Name, n.Status, n.FailureReason))]);
    }

    /// <summary>
    /// After a daemon restart: rebuild the tree over the restored apps (they start in the caller,
    /// in tree order), each supervisor with the status it had. A stopped or failed supervisor's
    /// apps were stopped with it and are not wanted running, so they stay down too.
    /// </summary>
    private void RestoreTree(IReadOnlyList<SupervisorSpec>? saved, IReadOnlyList<PersistedSupervisor>? status)
    {
        if (saved is not { Count: > 0 }) return;
        _runner = NewRunner();
        _treeRoot = BuildNode(saved[0], null, _runner, saved.Skip(1).ToDictionary(s => s.Name, StringComparer.Ordinal));
        var byName = (status ?? []).GroupBy(s => s.Name, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        foreach (SupervisorNode node in _treeRoot.SelfAndDescendants())
        {
            PersistedSupervisor? s = byName.GetValueOrDefault(node.Name);
            node.Restore(s?.Status, s?.Reason);
        }
    }

    /// <summary>The tree as `tend tree` shows it: the root over the apps started flat, then the running tree's children.</summary>
    public TreeNodeSnapshot Tree()
    {
        SupervisorNode? root = _treeRoot;
        var children = Apps.Where(a => a.Node is null).Select(AppNode).ToList();
        if (root is not null) children.AddRange(root.Children.Select(ChildNode));
        return new TreeNodeSnapshot(SupervisorSpec.RootName, TreeNodeKind.Supervisor, SupervisorStrategy.OneForOne, root?.Status ?? SupervisorNode.Running,
            root?.Restarts ?? 0, root?.MaxRestarts, root?.Within, RestartPolicy.Always, root?.FailureReason, [], [], children);
    }

    private static TreeNodeSnapshot ChildNode(TreeChild child) => child switch
    {
        AppChild a => AppNode(a.App),
        NodeChild n => SupervisorNodeSnapshot(n.Node),
        _ => throw new InvalidOperationException("unknown tree child"),
    };

    private static TreeNodeSnapshot SupervisorNodeSnapshot(SupervisorNode node) => new(
        node.Name, TreeNodeKind.Supervisor, node.Spec.Strategy, node.Status, node.Restarts, node.MaxRestarts,
        node.Within, node.Spec.Restart, node.FailureReason, [], [], [.. node.Children.Select(ChildNode)]);

    private static TreeNodeSnapshot AppNode(App app)
    {
        var instances = app.Instances.Select(i => i.Snapshot()).ToList();
        return new TreeNodeSnapshot(app.Name, TreeNodeKind.App, null, null, instances.Sum(i => i.Restarts), null, null,
            app.Spec.Restart, null, instances, [.. app.Spec.DependsOn], []);
    }

    public static string Strategy(SupervisorStrategy strategy) => strategy switch
    {
        SupervisorStrategy.OneForAll => "one_for_all",
        SupervisorStrategy.RestForOne => "rest_for_one",
        _ => "one_for_one",
    };
}
