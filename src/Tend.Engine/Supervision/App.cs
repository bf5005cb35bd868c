using Microsoft.Extensions.Logging;
using Tend.Config;
using Tend.Processes;

namespace Tend.Supervision;

/// <summary>One declared app and its instances. The spec is swapped whole when a config changes it.</summary>
public sealed class App
{
    private readonly Action _changed;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Lock _instancesGate = new();
    private volatile AppSpec _spec;
    private volatile Instance[] _instances;

    /// <param name="proxyPorts">listen_mode: proxy: the ports of instances adopted from the previous daemon, by id
    /// (their processes listen there already); every other instance gets a fresh one.</param>
    internal App(AppSpec spec, string? configPath, string home, IEnumerable<int> instanceIds, TimeProvider time, ILogger logger, Action changed,
        Cluster.AppListeners? listeners = null, IReadOnlyDictionary<int, int>? proxyPorts = null)
    {
        _spec = spec;
        ConfigPath = configPath;
        Home = home;
        _changed = changed;
        _time = time;
        _logger = logger;
        Listeners = listeners;
        _instances = [.. instanceIds.Select((id, n) => NewInstance(id, n, proxyPorts?.GetValueOrDefault(id)))];
    }

    public string Name => _spec.Name;
    public AppSpec Spec => _spec;
    public string? ConfigPath { get; }
    internal string Home { get; }

    /// <summary>In instance-number order; during a reload, a number may have its old and its new instance.</summary>
    public IReadOnlyList<Instance> Instances => _instances;

    /// <summary>The sockets the daemon holds for listen: (socket activation or proxy); null without listen:.</summary>
    internal Cluster.AppListeners? Listeners { get; }

    /// <summary>What socket activation passes to every instance as fds 3.. (empty without listen: or in proxy mode).</summary>
    internal IReadOnlyList<Processes.ListenFd> ListenHandles => Listeners?.Handles ?? [];

    /// <summary>Set when listen: could not be opened while restoring state: the instances stay blocked with it.</summary>
    internal string? ListenError { get; init; }

    /// <summary>Reload and deploy counts for /metrics.</summary>
    public Metrics.AppMetrics Metrics { get; } = new();

    /// <summary>CPU and memory over the last minutes, fed by the resource sampler.</summary>
    public ResourceHistory History { get; } = new();

    /// <summary>Serializes reloads, deploys and scaling of this app; a second one is refused, not queued.</summary>
    internal SemaphoreSlim RolloutGate { get; } = new(1, 1);

    /// <summary>After a user's stop: with no instance meant to run, close the listen: sockets so clients are refused.</summary>
    internal void CloseListenersIfStopped()
    {
        if (Listeners is { } listeners && Instances.All(i => !i.WantedRunning)) listeners.Close();
    }

    /// <summary>
    /// One step of one instance's lifecycle, published once to everyone who follows it: the daemon
    /// log, the event hub, the restart metrics, then the change (proxy backends, state saves, the
    /// supervisor's change feed).
    /// </summary>
    internal void OnTransition(Instance instance, InstanceTransition transition)
    {
        TransitionLog.Write(_logger, transition);
        InstanceEvents.Publish(instance, transition);
        if (transition.CountedRestart is { } cause) instance.Metrics.CountRestart(cause);
        Changed();
    }

    internal void Changed()
    {
        if (Listeners is { } listeners) listeners.UpdateBackends(ProxyBackends());
        _changed();
    }

    /// <summary>Proxy mode: the instances that may take connections now (online, ready, not draining).</summary>
    private List<Cluster.ProxyBackend> ProxyBackends()
    {
        var backends = new List<Cluster.ProxyBackend>();
        foreach (Instance i in _instances)
        {
            if (i.ProxyPort is not int port || i.Draining) continue;
            InstanceSnapshot now = i.Snapshot();
            if (now.Status == InstanceStatus.Online && now.Ready)
                backends.Add(new Cluster.ProxyBackend(i.BackendName, new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, port)));
        }
        return backends;
    }

    /// <summary>A new instance object for <paramref name="number"/> (not yet in <see cref="Instances"/>).</summary>
    internal Instance NewInstance(int id, int number, int? proxyPort = null) =>
        new(this, id, number, _time, _logger) { ProxyPort = Listeners?.Mode == ListenMode.Proxy && proxyPort is int kept ? kept : Listeners?.AllocateBackendPort() };

    internal void AddInstance(Instance instance)
    {
        lock (_instancesGate) _instances = [.. _instances.Append(instance).OrderBy(i => i.Number).ThenBy(i => i.Id)];
        Changed();
    }

    /// <summary>Forget a stopped instance (replaced by a reload, or scaled away).</summary>
    internal void RemoveInstance(Instance instance)
    {
        lock (_instancesGate) _instances = [.. _instances.Where(i => i != instance)];
        instance.Release();
        Changed();
    }

    internal void SetSpec(AppSpec spec)
    {
        _spec = spec;
        _changed();
    }

    /// <summary>The supervisor this app is a child of, when it runs in a tree (else the flat root).</summary>
    internal SupervisorNode? Node { get; set; }

    /// <summary>Where this app's instances publish their lifecycle events (the supervisor's hub).</summary>
    internal Events.EventHub? Events { get; init; }

    /// <summary>Where instances' output is published live, across runs (the supervisor's feeds).</summary>
    internal Logs.LogFeeds? LogFeeds { get; init; }

    /// <summary>Where instances get their NOTIFY_SOCKET (made on first use).</summary>
    internal Func<Health.NotifyHub>? NotifyHub { get; init; }

    /// <summary>The daemon's cgroup subtree, where each instance gets a cgroup; null or mode None: process groups only.</summary>
    internal Isolation.CgroupTree? Cgroups { get; init; }

    /// <summary>Where the runs' descriptors are kept so they outlive a crash of the daemon (null: nowhere).</summary>
    internal IDescriptorStore? DescriptorStore { get; init; }

    /// <summary>Reads .NET instances' runtime counters; null when the host turned that off (`tend run`).</summary>
    internal Runtime.DotnetCounterWatcher? DotnetCounters { get; init; }

    /// <summary>The app is gone: give back what its instances hold beyond a run (their notify sockets).</summary>
    /// <summary>depends_on's gate: what while_down: asks (is a dependency down, wait until it is up).</summary>
    internal DependencyGate? Dependencies { get; init; }

    private readonly CancellationTokenSource _watching = new();

    /// <summary>What runs before a max_memory restart (a collection rule); the restart waits for it.</summary>
    internal Func<Instance, Task>? BeforeMemoryRestart { get; init; }

    /// <summary>Watch while_down: stop dependencies for as long as the app exists.</summary>
    internal void WatchDependencies()
    {
        if (Dependencies is { } gate && Spec.DependsOn.Any(d => d.WhileDown == WhileDown.Stop))
            Watch(ct => gate.WatchStopDependenciesAsync(this, ct));
    }

    /// <summary>The app is a job (schedule:): what runs it; null for a long-running app.</summary>
    internal Jobs.JobScheduler? Job { get; set; }

    /// <summary>How watch: watches the app's files now (inotify or polling); null when it has no watch.</summary>
    internal Func<string>? WatchMode { get; set; }

    /// <summary>Run <paramref name="loop"/> in the background for as long as the app exists (cancelled when it is removed).</summary>
    internal void Watch(Func<CancellationToken, Task> loop) => _ = Task.Run(() => loop(_watching.Token));

    internal void Release()
    {
        _watching.Cancel();
        foreach (Instance i in Instances) i.Release();
        Listeners?.Dispose();
    }

    /// <summary>Told when an instance's run loop ends for good (the supervisor's <see cref="Supervisor.InstanceEnded"/>).</summary>
    internal Action<InstanceEnd>? Ended { get; init; }

    internal void OnInstanceEnded(InstanceEnd end) => Ended?.Invoke(end);

    /// <summary>Copy instances' output to the console too (`tend run`).</summary>
    internal OutputEcho EchoOutput { get; init; }

    public Task StartAsync() => Task.WhenAll(Instances.Select(i => i.StartAsync()));

    public Task StopAsync() => Task.WhenAll(Instances.Select(i => i.StopAsync()));

    /// <summary>The app for describe: its resolved spec, where it came from, its instances with the why behind them.</summary>
    public AppSnapshot Snapshot() => new(
        Name, Spec, ConfigPath, [.. Instances.Select(i => i.Details())],
        Node is null ? null : [.. SupervisorPath()],
        Spec.Listen.Count == 0 ? null : Listeners?.Bound ?? [.. Spec.Listen])
    {
        Containment = Cgroups is { Mode: not Isolation.CgroupMode.None, MembershipDirectory: { } dir }
            ? new Containment(Cgroups.Mode, Path.Join(dir, Name + ".{instance}.{id}"))
            : Containment.ProcessGroups,
        WatchMode = WatchMode?.Invoke(),
        Job = Job?.Snapshot(),
    };

    /// <summary>The supervisors above this app, root first.</summary>
    private IEnumerable<string> SupervisorPath()
    {
        var path = new List<string>();
        for (SupervisorNode? n = Node; n is not null; n = n.Parent) path.Add(n.Name);
        path.Reverse();
        return path;
    }
}
