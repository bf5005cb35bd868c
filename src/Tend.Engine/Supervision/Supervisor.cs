using Microsoft.Extensions.Logging;
using Tend.Config;
using Tend.Processes;
using Tend.State;

namespace Tend.Supervision;

/// <summary>
/// The engine's facade: what the daemon and `tend run` call. It owns the structural commands
/// (start, stop, delete, replace, save, resurrect), which run under <see cref="_ops"/> so two CLIs
/// racing never see half an app, and hands the rest to collaborators with their own dependencies:
/// the <see cref="AppRegistry"/> (apps, ids, targets), the <see cref="DependencyGate"/>
/// (depends_on), the <see cref="RolloutCoordinator"/> (reload, scale, deploy), the supervision
/// tree (Supervisor.Tree.cs, TreeRunner) and the <see cref="StateSaver"/> (every change persisted).
/// </summary>
public sealed partial class Supervisor : IAsyncDisposable
{
    private readonly SemaphoreSlim _ops = new(1, 1);
    private readonly Lock _gate = new(); // the notify hub, made on first use
    private readonly AppRegistry _registry = new();
    private readonly DependencyGate _dependencies;
    private readonly RolloutCoordinator _rollouts;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly StateSaver? _saver;
    /// <summary>Published on every change of an app or instance; what waits for a condition subscribes here.</summary>
    private readonly ChangeFeed _changes = new();
    private Health.NotifyHub? _notifyHub;
    private Runtime.DotnetCounterWatcher? _dotnet;

    /// <param name="home">TEND_HOME: logs go under it, and state.json when <paramref name="persist"/>.</param>
    /// <param name="persist">False for `tend run` (a container's PID 1 keeps no state between runs).</param>
    public Supervisor(string home, TimeProvider time, ILoggerFactory loggers, bool persist = true)
    {
        Home = home;
        _time = time;
        _logger = loggers.CreateLogger("tend.engine");
        if (persist) _saver = new StateSaver(StatePath, Snapshot, _logger);
        Events = new Events.EventHub(time);
        _dependencies = new DependencyGate(_registry, _changes, time, _logger);
        _rollouts = new RolloutCoordinator(_registry, _dependencies, _changes, Events, time, _logger, () => _saver?.Request());
        Sampler = new ResourceSampler(this, time);
        Sampler.Start();
    }

    /// <summary>Every lifecycle change of every app, numbered from 1 for this run (GET /events, `tend events`).</summary>
    public Events.EventHub Events { get; }

    /// <summary>Live output of every instance number, across its runs: what `tend logs -f` follows.</summary>
    public Logs.LogFeeds LogFeeds { get; } = new();

    /// <summary>
    /// An instance's run loop ended for good: stopped, finished, errored or blocked. Raised on the
    /// instance's own loop after its status is published; handlers must be quick and not throw.
    /// </summary>
    public event Action<InstanceEnd>? InstanceEnded;

    /// <summary>
    /// Every pass of the resource sampler, with what it measured of each live instance: what
    /// watches the figures (alerts) subscribes here. Raised on the sampler's thread; handlers
    /// must be quick and not throw.
    /// </summary>
    public event Action<ResourcePass>? Sampled;

    /// <summary>
    /// Asked before an instance is restarted for max_memory (collect first, then restart); the restart
    /// waits for it. Null: restart at once. The diagnostics collector sets it.
    /// </summary>
    public Func<Instance, Task>? BeforeMemoryRestart { get; set; }

    /// <summary>Sample every second even while nobody looks (alert rules on metrics need the resolution).</summary>
    public bool SampleEverySecond { get; set; }

    internal void OnSampled(ResourcePass pass) => Sampled?.Invoke(pass);

    public string Home { get; }
    public string StatePath => Path.Combine(Home, "state.json");
    public string DumpPath => Path.Combine(Home, "dump.json");
    internal ResourceSampler Sampler { get; }

    public IReadOnlyList<App> Apps => _registry.All;

    /// <summary>Copy every instance's output to this process's stdout/stderr (`tend run`), and how.</summary>
    public OutputEcho EchoOutput { get; init; }

    /// <summary>
    /// Read the runtime counters of instances that are .NET processes (docs/metrics.md); null, the
    /// default, for none. The daemon turns it on; `tend run` leaves it off to stay light.
    /// </summary>
    public Runtime.DotnetCounterOptions? DotnetCounters
    {
        get => _dotnet?.Options;
        init => _dotnet = value is null ? null : new Runtime.DotnetCounterWatcher(value, _time, _logger);
    }

    internal Runtime.DotnetCounterWatcher? DotnetCounterWatcher => _dotnet;

    /// <summary>Where instances get their cgroups (the daemon opens it; docs/isolation.md). Null: process groups only.</summary>
    public Isolation.CgroupTree? Cgroups { get; init; }

    /// <summary>
    /// What the previous daemon handed over (docs/upgrade.md): its instances' pipes and notify sockets
    /// and its apps' listening sockets, by name. <see cref="RestoreAsync"/> adopts the runs they belong
    /// to instead of restarting them, and closes what nobody took.
    /// </summary>
    public Io.InheritedDescriptors? Inherited { get; init; }

    /// <summary>Where runs keep their descriptors so that they outlive a crash of the daemon (docs/upgrade.md); null: nowhere.</summary>
    public IDescriptorStore? DescriptorStore { get; init; }

    /// <summary>
    /// Restore the declared state after a daemon (re)start. Instances the previous daemon left
    /// running are stopped first, then everything that should run is started fresh: their pipes
    /// died with the old daemon, so adopting them would mean losing their output (and a write
    /// to a pipe with no reader kills them with SIGPIPE anyway).
    /// </summary>
    public async Task RestoreAsync(CancellationToken ct = default)
    {
        var problems = new List<string>();
        PersistedState? state = StateFile.Read(StatePath, problems);
        foreach (string p in problems) EngineLog.StateUnreadable(_logger, StatePath, p);
        if (state is null)
        {
            Inherited?.Dispose();
            return;
        }
        _saver?.OnDiskHas(state.Apps.Count);

        Dictionary<int, CarriedRun> carried = TakeCarriedRuns(state);
        var stopped = await StopOrphansAsync(state, carried, ct).ConfigureAwait(false);
        await _ops.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            _registry.ContinueIdsFrom(state.NextId);
            var restored = new List<(App App, PersistedApp Saved)>();
            foreach (PersistedApp pa in state.Apps)
                restored.Add((AddApp(pa.Spec, pa.ConfigPath, pa.Instances.OrderBy(i => i.Instance).Select(i => i.Id), restoring: true,
                    proxyPorts: pa.Instances.Where(i => carried.ContainsKey(i.Id) && i.ProxyPort is not null).ToDictionary(i => i.Id, i => i.ProxyPort!.Value)), pa));
            RestoreTree(state.Tree, state.TreeStatus);
            foreach (var (app, pa) in restored)
            {
                foreach (var (inst, saved) in app.Instances.Zip(pa.Instances.OrderBy(i => i.Instance)))
                {
                    if (Inherited?.Take($"notify.{inst.Id}") is { } notify) inst.AdoptNotifySocket(notify);
                    if (carried.TryGetValue(inst.Id, out CarriedRun? run))
                    {
                        inst.Cgroup = run.Child.Cgroup;
                        await inst.AdoptAsync(run).ConfigureAwait(false);
                        continue;
                    }
                    if (stopped.Contains(inst.Id))
                        inst.Origin = "started afresh: the previous daemon ended without handing its pipes over, so its process was stopped (docs/upgrade.md)";
                    // A job's instance runs when its schedule says, not because its last run was going.
                    if (saved.WantedRunning && app.Spec.Job is null) await _dependencies.StartAsync(inst).ConfigureAwait(false);
                }
            }
            foreach (var (app, _) in restored) app.CloseListenersIfStopped();
            EngineLog.StateRestored(_logger, state.Apps.Count, StatePath);
        }
        finally
        {
            _ops.Release();
            // Whatever nobody took is closed, and dropped from the store that kept it.
            if (Inherited is { } inherited && DescriptorStore is { } store)
                foreach (string name in inherited.Names) store.Forget(name);
            Inherited?.Dispose();
        }
    }

    /// <summary>
    /// The runs the previous daemon handed over: a live process (pid and start time as state.json has
    /// them) whose stdout and stderr pipes came with the inherited descriptors. A process without its
    /// pipes cannot be adopted (its output would be lost, and it would die of SIGPIPE): it is stopped.
    /// </summary>
    private Dictionary<int, CarriedRun> TakeCarriedRuns(PersistedState state)
    {
        var carried = new Dictionary<int, CarriedRun>();
        if (Inherited is not { Count: > 0 } inherited) return carried;
        foreach (PersistedApp app in state.Apps)
        {
            foreach (PersistedInstance inst in app.Instances)
            {
                if (inst.Pid is not int pid || inst.StartTime is not ulong start || !inst.WantedRunning) continue;
                Io.SafeFdHandle? output = inherited.Take($"out.{inst.Id}"), error = inherited.Take($"err.{inst.Id}");
                ChildProcess? child = null;
                if (output is not null && error is not null)
                {
                    try { child = ChildProcess.Adopt(pid, start, cgroup: Cgroups?.Instance(InstanceProcess.LeafName(app.Spec.Name, inst.Instance, inst.Id))); }
                    catch (SpawnException ex) { EngineLog.AdoptFailed(_logger, app.Spec.Name, inst.Instance, pid, ex.Message); }
                }
                if (child is null)
                {
                    output?.Dispose();
                    error?.Dispose();
                    continue;
                }
                carried[inst.Id] = new CarriedRun(child, output!, error!, inst.Restarts ?? 0, inst.Ready ?? false, inst.StartedAt, inherited.Source);
            }
        }
        return carried;
    }

    /// <summary>
    /// Hand-over to the next daemon (`tend daemon upgrade`, docs/upgrade.md): commands wait, every
    /// live run stops reading its pipes (what it writes meanwhile waits in them), the state is written
    /// one last time, and the descriptors to keep open across execve are returned by name. Until
    /// <see cref="HandOver.Abandon"/>, nothing else changes.
    /// </summary>
    public async Task<HandOver> HandOverAsync(CancellationToken ct = default)
    {
        await _ops.WaitAsync(ct).ConfigureAwait(false);
        var paused = new List<Instance>();
        try
        {
            var handles = new List<(string Name, System.Runtime.InteropServices.SafeHandle Handle)>();
            int running = 0;
            foreach (App app in Apps)
            {
                foreach (Instance inst in app.Instances)
                {
                    paused.Add(inst);
                    var own = inst.PauseForHandOver();
                    if (own.Any(h => h.Name.StartsWith("out.", StringComparison.Ordinal))) running++;
                    handles.AddRange(own);
                }
                if (app.Listeners is { } listeners) handles.AddRange(listeners.HandOverHandles());
            }
            if (_saver is not null && !_saver.Freeze()) throw new IOException($"could not write {StatePath}; the hand-over would lose the state");
            EngineLog.HandingOver(_logger, running, handles.Count);
            return new HandOver(handles, running, () =>
            {
                foreach (Instance inst in paused) inst.ResumeAfterHandOver();
                _saver?.Unfreeze();
                _ops.Release();
            });
        }
        catch
        {
            foreach (Instance inst in paused) inst.ResumeAfterHandOver();
            _ops.Release();
            throw;
        }
    }

    private async Task<HashSet<int>> StopOrphansAsync(PersistedState state, Dictionary<int, CarriedRun> carried, CancellationToken ct)
    {
        var stops = new List<Task>();
        var stopped = new HashSet<int>();
        foreach (PersistedApp app in state.Apps)
        {
            foreach (PersistedInstance inst in app.Instances)
            {
                if (carried.ContainsKey(inst.Id)) continue;
                if (inst.Pid is not int pid || inst.StartTime is not ulong start) continue;
                ChildProcess? orphan = ChildProcess.Adopt(pid, start, cgroup: Cgroups?.Instance(InstanceProcess.LeafName(app.Spec.Name, inst.Instance, inst.Id)));
                if (orphan is null) continue;
                EngineLog.OrphanStopping(_logger, app.Spec.Name, inst.Instance, pid);
                stopped.Add(inst.Id);
                stops.Add(StopOrphanAsync(orphan, app.Spec, ct));
            }
        }
        await Task.WhenAll(stops).ConfigureAwait(false);
        // Whatever else the last daemon's apps left in their cgroups (an escaped helper, an
        // instance whose pid was never saved): nothing of it may outlive that daemon either. The
        // cgroups of adopted runs are theirs and stay.
        if (Cgroups is { } cgroups)
        {
            var keep = carried.Values.Select(c => c.Child.Cgroup?.Directory).OfType<string>().Select(Path.GetFileName).OfType<string>().ToHashSet();
            foreach (string leaf in cgroups.KillLeftovers(TimeSpan.FromSeconds(5), keep)) EngineLog.CgroupLeftoversKilled(_logger, leaf);
        }
        return stopped;
    }

    private static async Task StopOrphanAsync(ChildProcess orphan, AppSpec spec, CancellationToken ct)
    {
        await using (orphan.ConfigureAwait(false))
            await orphan.StopAsync(spec.StopSignal, spec.KillTimeout, ct).ConfigureAwait(false);
    }

    /// <summary>What <see cref="HandOverAsync"/> prepared: the descriptors to keep across execve, and the way back if it does not happen.</summary>
    public sealed record HandOver(IReadOnlyList<(string Name, System.Runtime.InteropServices.SafeHandle Handle)> Descriptors, int Instances, Action Abandon);

    /// <summary>Start (or bring in line) the apps of a config: new apps are added, changed ones replaced, stopped ones started.</summary>
    public async Task<CommandOutcome> StartAsync(IReadOnlyList<AppSpec> specs, string? configPath, CancellationToken ct = default)
    {
        await _ops.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            var affected = new List<string>();
            var alreadyRunning = new List<string>();
            foreach (AppSpec spec in specs)
            {
                App? existing = _registry.Find(spec.Name);
                if (existing is not null && existing.Spec == spec)
                {
                    bool allRunning = existing.Instances.All(i => i.WantedRunning && i.Status is not (InstanceStatus.Stopped or InstanceStatus.Errored or InstanceStatus.Blocked));
                    if (allRunning) { alreadyRunning.Add(spec.Name); continue; }
                    await _dependencies.StartAppAsync(existing).ConfigureAwait(false);
                    affected.Add(spec.Name);
                    continue;
                }
                if (existing is not null)
                {
                    EngineLog.AppReplaced(_logger, spec.Name);
                    PublishApp(Tend.Events.EventTypes.AppReplaced, spec.Name, "spec changed: replacing its instances");
                    await existing.StopAsync().ConfigureAwait(false);
                    existing.Node?.Children.RemoveAll(c => c is AppChild a && a.App == existing);
                    RemoveApp(existing);
                }
                App app = AddApp(spec, configPath, Enumerable.Range(0, spec.Instances).Select(_ => _registry.NextId()));
                if (existing is null) StartFreshLogs(app);
                EngineLog.AppAdded(_logger, spec.Name, spec.Instances);
                PublishApp(Tend.Events.EventTypes.AppAdded, spec.Name, $"added ({spec.Instances} instances)", new() { ["instances"] = Inv(spec.Instances) });
                await _dependencies.StartAppAsync(app).ConfigureAwait(false);
                affected.Add(spec.Name);
            }
            return new AppsStarted(affected, alreadyRunning);
        }
        finally { _ops.Release(); _saver?.Request(); }
    }

    /// <summary>
    /// `tend startOrReload` / `startOrRestart CONFIG` (PM2's): the apps of the config that already run
    /// from it are reloaded (or restarted) with the file as it is now and <paramref name="env"/>, then
    /// scaled to its instances; the rest go through <see cref="StartAsync(IReadOnlyList{AppSpec}, string?, CancellationToken)"/>
    /// (new ones added, stopped ones started, and one whose sockets changed, or that ran from elsewhere, replaced).
    /// </summary>
    public async Task<CommandOutcome> StartOrRollAsync(IReadOnlyList<AppSpec> specs, string? configPath, IReadOnlyDictionary<string, string> env,
        RunningAppAction action, CancellationToken ct = default)
    {
        List<AppSpec> running = [.. specs.Where(spec => _registry.Find(spec.Name) is App app && app.ConfigPath == configPath && spec.Job is null
            && app.Spec.Job is null && app.Spec.Listen.SequenceEqual(spec.Listen) && app.Spec.ListenMode == spec.ListenMode
            && app.Instances.Any(i => i.WantedRunning))];
        List<AppSpec> rest = [.. specs.Where(spec => !running.Contains(spec))];
        var steps = new List<CommandOutcome>();
        if (rest.Count > 0 || running.Count == 0) steps.Add(await StartAsync(rest, configPath, ct).ConfigureAwait(false));
        foreach (AppSpec spec in running)
        {
            steps.Add(action == RunningAppAction.Reload
                ? await ReloadAsync(spec.Name, null, env, ct).ConfigureAwait(false)
                : await RestartAsync(spec.Name, env, ct).ConfigureAwait(false));
            if (_registry.Find(spec.Name) is App app && app.Instances.Count != spec.Instances)
                steps.Add(await ScaleAsync(spec.Name, spec.Instances, null, ct).ConfigureAwait(false));
        }
        return new StepsTaken(steps);
    }

    public async Task<CommandOutcome> StopAsync(string target, CancellationToken ct = default)
    {
        CommandOutcome result = FindNode(target) is { } node
            ? await OnSubtreeAsync(node, InstanceVerb.Stopped, n => n.StopAsync()).ConfigureAwait(false)
            : await OnInstancesAsync(target, InstanceVerb.Stopped, inst => inst.StopAsync(), reverse: true, ct, withTree: true).ConfigureAwait(false);
        // A stopped app's port refuses connections (and a later start reopens it); see AppListeners.
        foreach (App app in Apps) app.CloseListenersIfStopped();
        return result;
    }

    public Task<CommandOutcome> RestartAsync(string target, CancellationToken ct = default) => RestartAsync(target, null, ct);

    /// <summary>
    /// `tend restart TARGET [--update-env]`: with <paramref name="updateEnv"/>, the apps the target names
    /// first take their spec as declared now with that environment (<see cref="SpecRefresh"/>); the
    /// restarted instances run it, and the app's other instances at their next start.
    /// </summary>
    public Task<CommandOutcome> RestartAsync(string target, IReadOnlyDictionary<string, string>? updateEnv, CancellationToken ct = default)
    {
        if (updateEnv is not null)
        {
            IEnumerable<App> apps = FindNode(target) is { } subtree
                ? Apps.Where(a => a.Node is { } n && subtree.SelfAndDescendants().Contains(n))
                : Resolve(target).Select(i => i.App).Distinct();
            var refreshed = apps.Select(a => (App: a, Spec: SpecRefresh.Read(a, updateEnv))).ToList(); // all read before any changes
            foreach (var (app, spec) in refreshed) app.SetSpec(spec);
        }
        return RestartNowAsync(target, ct);
    }

    private Task<CommandOutcome> RestartNowAsync(string target, CancellationToken ct) =>
        FindNode(target) is { } node
            ? OnSubtreeAsync(node, InstanceVerb.Restarted, async n => { await n.StopAsync().ConfigureAwait(false); await n.StartAsync().ConfigureAwait(false); })
            : OnInstancesAsync(target, InstanceVerb.Restarted, inst => _dependencies.RestartAsync(inst, "restart requested"), reverse: false, ct, withTree: true);

    /// <summary>`tend start web`: start the instances of a known target that are not running; running ones are left alone.
    /// A job's start is a run now, recorded in its history as `tend run-job` would.</summary>
    public Task<CommandOutcome> StartTargetAsync(string target, CancellationToken ct = default) =>
        OnInstancesAsync(target, InstanceVerb.Started, i => i.App.Job is { } job ? RunJobNow(job) : _dependencies.StartAsync(i), reverse: false, ct, withTree: true);

    private static Task RunJobNow(Tend.Jobs.JobScheduler job)
    {
        if (!job.Snapshot().Running) job.RunNow(out _);
        return Task.CompletedTask;
    }

    /// <summary>Every job (an app with schedule:), in start order.</summary>
    public IReadOnlyList<Tend.Jobs.JobSnapshot> ListJobs() => [.. Apps.Where(a => a.Job is not null).Select(a => a.Job!.Snapshot())];

    /// <summary>`tend run-job NAME`: a run now. Null when there is no job of that name.</summary>
    public (Tend.Jobs.JobRun Started, Task<Tend.Jobs.JobRun> Ended)? RunJob(string name)
    {
        if (_registry.Find(name)?.Job is not { } job) return null;
        Tend.Jobs.JobRun started = job.RunNow(out Task<Tend.Jobs.JobRun> ended);
        return (started, ended);
    }

    private void PublishJob(Tend.Jobs.JobEvent e)
    {
        Tend.Jobs.JobRun run = e.Run;
        (string type, string message) = run.Outcome switch
        {
            Tend.Jobs.JobOutcome.Running => (Tend.Events.EventTypes.JobStarted, $"run {run.Id} started ({run.Trigger})"),
            Tend.Jobs.JobOutcome.Succeeded => (Tend.Events.EventTypes.JobSucceeded, $"run {run.Id} succeeded in {Units.FormatDuration(run.Duration ?? TimeSpan.Zero)}"),
            Tend.Jobs.JobOutcome.Skipped => (Tend.Events.EventTypes.JobSkipped, $"run skipped: {run.Detail}"),
            Tend.Jobs.JobOutcome.Missed => (Tend.Events.EventTypes.JobMissed, $"missed: {run.Detail}"),
            Tend.Jobs.JobOutcome.Interrupted => (Tend.Events.EventTypes.JobFailed, $"run {run.Id} interrupted: {run.Detail}"),
            _ => (Tend.Events.EventTypes.JobFailed, $"run {run.Id} {run.Outcome.ToString().ToLowerInvariant()}: {run.Detail}"),
        };
        var data = new Dictionary<string, string> { ["run"] = Inv(run.Id), ["trigger"] = run.Trigger, ["outcome"] = run.Outcome.ToString().ToLowerInvariant() };
        if (run.ScheduledFor is { } at) data["scheduled_for"] = at.ToString("O", System.Globalization.CultureInfo.InvariantCulture);
        if (run.ExitCode is int code) data["exit_code"] = Inv(code);
        PublishApp(type, e.App, message, data);
    }

    /// <summary>The health of every app, in start order (see <see cref="AppHealthReader"/>).</summary>
    public IReadOnlyList<AppHealthState> AppsHealth() => [.. Apps.Select(AppHealthReader.Of)];

    /// <summary>The health of one app by name; null if there is none.</summary>
    public AppHealthState? AppHealthOf(string name) => _registry.Find(name) is App app ? AppHealthReader.Of(app) : null;

    /// <summary>`tend reload app|all`: a rolling, readiness-gated replacement (see <see cref="RolloutCoordinator"/>).</summary>
    public Task<CommandOutcome> ReloadAsync(string target, int? parallelism, IReadOnlyDictionary<string, string>? updateEnv, CancellationToken ct = default) =>
        _rollouts.ReloadAsync(target, parallelism, updateEnv, ct);

    /// <summary>`tend scale app N|+N|-N`.</summary>
    public Task<CommandOutcome> ScaleAsync(string appName, int? count, int? delta, CancellationToken ct = default) =>
        _rollouts.ScaleAsync(appName, count, delta, ct);

    /// <summary>`tend deploy app --strategy blue-green|canary`.</summary>
    public Task<CommandOutcome> DeployAsync(string appName, string strategy, int? canary, TimeSpan? watch, TimeSpan? warmup,
        IReadOnlyDictionary<string, string> env, CancellationToken ct = default) =>
        _rollouts.DeployAsync(appName, strategy, canary, watch, warmup, env, ct);

    /// <summary>Whether <paramref name="word"/> names managed instances (an app, app#i, an id or all with apps).</summary>
    public bool IsTarget(string word)
    {
        try { return Resolve(word).Count > 0; }
        catch (TargetNotFoundException) { return false; }
    }

    public Task<CommandOutcome> ResetAsync(string target, CancellationToken ct = default) =>
        OnInstancesAsync(target, InstanceVerb.Reset, inst => { inst.ResetCounters(); return Task.CompletedTask; }, reverse: false, ct);

    public Task<CommandOutcome> FlushAsync(string target, CancellationToken ct = default) =>
        OnInstancesAsync(target, InstanceVerb.Flushed, inst => { inst.FlushLogs(); return Task.CompletedTask; }, reverse: false, ct);

    /// <summary>`tend reloadLogs`: each instance's log files opened again, for a logrotate that moves them away.</summary>
    public Task<CommandOutcome> ReopenLogsAsync(string target, CancellationToken ct = default) =>
        OnInstancesAsync(target, InstanceVerb.LogsReopened, inst => { inst.ReopenLogs(); return Task.CompletedTask; }, reverse: false, ct);

    public CommandOutcome Signal(string target, int signal, SignalScope scope = SignalScope.Main)
    {
        var instances = Resolve(target);
        var hit = instances.Where(i => i.Signal(signal, scope)).Select(i => i.Label).ToList();
        return new Signalled(target, signal, scope, hit);
    }

    public async Task<CommandOutcome> DeleteAsync(string target, CancellationToken ct = default)
    {
        await _ops.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            Target t = new(target);
            List<App> apps;
            if (t.IsAll) apps = [.. Apps];
            else if (t.TryInstance(out _, out int? n) && n is null && _registry.Find(target) is App one) apps = [one];
            else apps = [WholeApp(target)];
            foreach (App app in Enumerable.Reverse(apps))
            {
                await app.StopAsync().ConfigureAwait(false);
                app.Node?.Children.RemoveAll(c => c is AppChild a && a.App == app);
                RemoveApp(app);
                EngineLog.AppDeleted(_logger, app.Name);
                PublishApp(Tend.Events.EventTypes.AppDeleted, app.Name, "deleted");
            }
            if (t.IsAll && _runner is not null)
            {
                // Nothing left to supervise: the tree goes too, or state.json would keep it.
                await _runner.CloseAsync().ConfigureAwait(false);
                _runner = null;
                _treeRoot = null;
            }
            if (Apps.Count == 0) _saver?.AllowEmpty();
            return new AppsDeleted([.. apps.Select(a => a.Name)]);
        }
        finally { _ops.Release(); _saver?.Request(); }
    }

    /// <summary>
    /// `tend delete 0` (PM2's habit: the id of a one-instance app) or `tend delete web#0`: the app, when
    /// the instance is all of it. One of several instances is not deleted alone (its number would leave
    /// a hole): the error says to scale instead.
    /// </summary>
    private App WholeApp(string target)
    {
        IReadOnlyList<Instance> named;
        try { named = Resolve(target); }
        catch (TargetNotFoundException)
        {
            throw new TargetNotFoundException($"unknown app \"{target}\" (delete takes an app name, an id, or all)", _registry.Suggest(target));
        }
        App app = _registry.Find(named[0].Name)!;
        if (app.Instances.Count > named.Count)
            throw new TargetNotFoundException(
                $"{target} is {named[0].Label}, one of the {app.Instances.Count} instances of {app.Name}: `tend scale {app.Name} -1` removes the last one, `tend delete {app.Name}` the whole app", []);
        return app;
    }

    /// <summary>
    /// Stop every app in reverse start order because the daemon itself is going away (SIGTERM,
    /// `tend kill`, the end of `tend run`). Unlike `tend stop all`, this does not change what is
    /// declared: the next daemon start brings the same apps back.
    /// </summary>
    public async Task ShutdownAsync()
    {
        await _ops.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_runner is not null) await _runner.CloseAsync().ConfigureAwait(false);
            foreach (App app in Enumerable.Reverse(Apps))
                await Task.WhenAll(app.Instances.Select(i => i.ShutdownAsync())).ConfigureAwait(false);
            // The listening sockets go with the apps, before `tend kill` returns: whoever binds the
            // port next (the next daemon, or anything else) must not find it still taken.
            foreach (App app in Apps) app.Listeners?.Dispose();
            if (_saver is not null) await _saver.FlushAsync().ConfigureAwait(false);
        }
        finally { _ops.Release(); }
    }

    /// <summary>
    /// `tend save`: the declared state to dump.json, the previous dump kept as dump.json.bak. An empty
    /// list does not replace a dump that declares apps unless <paramref name="force"/> says so.
    /// </summary>
    public CommandOutcome Save(bool force = false)
    {
        PersistedState snapshot = Snapshot();
        var dump = snapshot with { Apps = [.. snapshot.Apps.Select(a => a with { Instances = [.. a.Instances.Select(i => i with { Pid = null, StartTime = null, Restarts = null, Ready = null, StartedAt = null, ProxyPort = null })] })] };
        if (dump.Apps.Count == 0 && !force && StateFile.Read(DumpPath, []) is { Apps.Count: > 0 } previous)
            throw new SaveRefusedException(
                $"nothing is declared, and {DumpPath} lists {previous.Apps.Count} apps ({string.Join(", ", previous.Apps.Select(a => a.Spec.Name))}): not replacing it with an empty list; `tend save --force` does");
        StateFile.Write(DumpPath, dump, keepBackup: true);
        return new StateSaved([.. dump.Apps.Select(a => a.Spec.Name)], DumpPath);
    }

    /// <summary>`tend resurrect`: start what the dump declares (the backup when the dump is corrupt).</summary>
    public async Task<CommandOutcome> ResurrectAsync(CancellationToken ct = default)
    {
        var problems = new List<string>();
        PersistedState? dump = StateFile.Read(DumpPath, problems);
        if (dump is null)
            throw new TargetNotFoundException($"no usable dump at {DumpPath}; run `tend save` first", problems);
        if (dump.Tree is { Count: > 0 } tree)
        {
            // The tree comes back whole, as it was saved: resurrecting it flat would change what happens on a crash.
            var config = new TendConfig(dump.Apps.FirstOrDefault()?.ConfigPath, new EquatableArray<AppSpec>(dump.Apps.Select(a => a.Spec)))
            {
                Tree = tree[0].MaxRestarts == int.MaxValue // a dump from before root: was configurable
                    ? new TreeSpec(new EquatableArray<SupervisorSpec>(tree.Skip(1)))
                    : new TreeSpec(new EquatableArray<SupervisorSpec>(tree.Skip(1))) { RootMaxRestarts = tree[0].MaxRestarts, RootWithin = tree[0].Within },
            };
            return new Resurrected(await StartTreeAsync(config, ct).ConfigureAwait(false), problems);
        }
        var wanted = dump.Apps.Where(a => a.Instances.Any(i => i.WantedRunning)).ToList();
        CommandOutcome started = await StartAsync([.. wanted.Select(a => a.Spec)], wanted.FirstOrDefault()?.ConfigPath, ct).ConfigureAwait(false);
        return new Resurrected(started, problems);
    }

    public InstanceSnapshot[] List()
    {
        Sampler.Refresh();
        return [.. Apps.SelectMany(a => a.Instances).Select(i => i.Snapshot())];
    }

    /// <summary>Every app's resource history, or one app's (<paramref name="app"/>; unknown → TargetNotFoundException).</summary>
    public AppResourceHistory[] History(string? app = null)
    {
        if (app is null) return [.. Apps.Select(a => new AppResourceHistory(a.Name, ResourceHistory.Resolution, a.History.Snapshot()))];
        App found = _registry.Find(app) ?? throw new TargetNotFoundException($"no app named \"{app}\"");
        return [new AppResourceHistory(found.Name, ResourceHistory.Resolution, found.History.Snapshot())];
    }

    /// <summary>An app (all its instances), app#i or an instance id (that instance only, under its app).</summary>
    public AppSnapshot Describe(string target)
    {
        Sampler.Refresh();
        Target t = new(target);
        if (t.TryInstance(out string appName, out int? n) && _registry.Find(appName) is App app)
        {
            AppSnapshot snapshot = app.Snapshot();
            if (n is int i)
            {
                var picked = snapshot.Instances.Where(x => x.Now.Number == i).ToList();
                if (picked.Count == 0) throw new TargetNotFoundException($"{appName} has no instance #{i} (it has {AppRegistry.NumbersOf(app)})");
                snapshot = snapshot with { Instances = picked };
            }
            return snapshot;
        }
        if (int.TryParse(target, out int id) && Apps.SelectMany(a => a.Instances).FirstOrDefault(x => x.Id == id) is Instance byId)
        {
            AppSnapshot snapshot = _registry.Find(byId.Name)!.Snapshot();
            return snapshot with { Instances = [.. snapshot.Instances.Where(x => x.Now.Id == id)] };
        }
        throw new TargetNotFoundException($"unknown app \"{target}\"", _registry.Suggest(target));
    }

    /// <summary>The environment of each instance a target names (all, an app, app#i or an id), in start order (tend env).</summary>
    public InstanceEnvironmentView[] Environments(string target) => [.. _registry.Resolve(target).Select(i => i.Environment())];

    /// <summary>The instances a target names, in start order. Throws <see cref="TargetNotFoundException"/>.</summary>
    public IReadOnlyList<Instance> Resolve(string target) => _registry.Resolve(target);

    /// <param name="withTree">
    /// Stop and restart of apps of the tree: never interleaved with a restart the tree is carrying
    /// out, or that restart could start an app the user has just stopped (see TreeRunner.ExclusiveAsync).
    /// </param>
    private async Task<CommandOutcome> OnInstancesAsync(string target, InstanceVerb verb, Func<Instance, Task> action, bool reverse, CancellationToken ct, bool withTree = false)
    {
        IReadOnlyList<Instance> instances = Resolve(target);
        if (withTree && _runner is { } runner && instances.Any(i => _registry.Find(i.Name)?.Node is not null))
            return await runner.ExclusiveAsync(() => OnResolvedAsync(instances, verb, action, reverse, ct)).ConfigureAwait(false);
        return await OnResolvedAsync(instances, verb, action, reverse, ct).ConfigureAwait(false);
    }

    private async Task<CommandOutcome> OnResolvedAsync(IReadOnlyList<Instance> instances, InstanceVerb verb, Func<Instance, Task> action, bool reverse, CancellationToken ct)
    {
        // Apps one after another (in reverse for stop, so dependents go first), instances of one app together.
        var byApp = instances.GroupBy(i => i.Name).ToList();
        if (reverse) byApp.Reverse();
        foreach (var group in byApp)
        {
            ct.ThrowIfCancellationRequested();
            await Task.WhenAll(group.Select(action)).ConfigureAwait(false);
        }
        _saver?.Request();
        return new InstancesActed(verb, [.. instances.Select(i => i.Label)]);
    }

    /// <param name="restoring">
    /// Bringing back state.json: a port that cannot be opened now (taken meanwhile) must not cost
    /// the app its place in the state, nor the daemon its start. The app comes back with its
    /// instances blocked, saying why; `tend delete` and `tend start` again (or a changed config)
    /// open the addresses anew.
    /// </param>
    private App AddApp(AppSpec spec, string? configPath, IEnumerable<int> ids, bool restoring = false, IReadOnlyDictionary<int, int>? proxyPorts = null)
    {
        // Opened before the app exists, so a port in use fails the command and leaves nothing half made.
        Cluster.AppListeners? listeners = null;
        string? listenError = null;
        try { listeners = Cluster.AppListeners.Open(spec, _logger, restoring ? name => Inherited?.Take(name) : null); }
        catch (Cluster.ListenFailedException ex) when (restoring)
        {
            listenError = ex.Message;
            EngineLog.Blocked(_logger, spec.Name, 0, ex.Message);
        }
        var app = new App(spec, configPath, Home, ids, _time, _logger, OnStateChanged, listeners, proxyPorts)
        {
            EchoOutput = EchoOutput, NotifyHub = GetNotifyHub, DotnetCounters = _dotnet, ListenError = listenError, Events = Events, LogFeeds = LogFeeds,
            Cgroups = Cgroups,
            DescriptorStore = DescriptorStore,
            Ended = end => InstanceEnded?.Invoke(end),
            Dependencies = _dependencies,
            BeforeMemoryRestart = i => BeforeMemoryRestart?.Invoke(i) ?? Task.CompletedTask,
        };
        app.WatchDependencies();
        if (spec.RestartSchedule is not null) app.Watch(ct => RunRestartScheduleAsync(app, ct));
        if (spec.Watch is not null) app.Watch(ct => RunFileWatchAsync(app, ct));
        if (spec.Job is { } job)
        {
            var scheduler = new Tend.Jobs.JobScheduler(spec.Name, job, new AppJobTarget(app, _dependencies, _registry.NextId),
                Tend.Jobs.JobHistory.Load(Home, spec.Name, job.History), _time, PublishJob);
            app.Job = scheduler;
            app.Watch(async ct =>
            {
                scheduler.Start();
                try { await Task.Delay(Timeout.Infinite, ct).ConfigureAwait(false); }
                catch (OperationCanceledException) { }
                await scheduler.DisposeAsync().ConfigureAwait(false);
            });
        }
        // A restored app's sockets, handed over, are in the store already.
        if (listeners is not null && DescriptorStore is { } store && !(restoring && Inherited is { Source: not "none" }))
            foreach (var (name, handle) in listeners.HandOverHandles()) store.Keep(name, handle);
        _registry.Add(app);
        _saver?.Declared();
        _saver?.Request();
        return app;
    }

    /// <summary>
    /// A new app (not a changed one) starts with empty log files: files left under its name by a
    /// deleted app of the same name are rotated away (kept as .1, .2…), not shown as its own. Only
    /// Tend's own paths under TEND_HOME/logs: a file the config names (out_file, err_file) is the
    /// user's, and is appended to as it always was.
    /// </summary>
    private static void StartFreshLogs(App app)
    {
        foreach (Instance i in app.Instances)
        {
            if (app.Spec.Logs.OutFile is null) Logs.LogWriter.RotateAway(i.OutLogPath, app.Spec.Logs.MaxFiles);
            if (app.Spec.Logs.ErrFile is null) Logs.LogWriter.RotateAway(i.ErrLogPath, app.Spec.Logs.MaxFiles);
        }
    }

    /// <summary>Some app or instance changed: persist it (debounced) and wake whatever waits for a condition.</summary>
    private void OnStateChanged()
    {
        _saver?.Request();
        _changes.Publish();
    }

    private void PublishApp(string type, string app, string message, Dictionary<string, string>? data = null) =>
        Events.Publish(type, app, null, null, message, data);

    private static string Inv(long value) => value.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>
    /// restart_schedule: reload the app at each occurrence of its cron expression (in its zone), for
    /// as long as it exists. A stopped app is left stopped; a reload already running is not doubled.
    /// Waits at most a day at a time, so a far occurrence is recomputed (and Task.Delay's limit kept).
    /// </summary>
    private async Task RunRestartScheduleAsync(App app, CancellationToken ct)
    {
        RestartSchedule schedule = app.Spec.RestartSchedule!;
        DateTimeOffset from = _time.GetUtcNow();
        while (!ct.IsCancellationRequested)
        {
            if (Schedules.Next(schedule, from) is not { } next) return;
            TimeSpan wait = next - _time.GetUtcNow();
            if (wait > TimeSpan.FromDays(1))
            {
                try { await Task.Delay(TimeSpan.FromDays(1), _time, ct).ConfigureAwait(false); }
                catch (OperationCanceledException) { return; }
                continue;
            }
            if (wait > TimeSpan.Zero)
            {
                try { await Task.Delay(wait, _time, ct).ConfigureAwait(false); }
                catch (OperationCanceledException) { return; }
            }
            from = next;
            if (_registry.Find(app.Name) != app) return;
            if (!app.Instances.Any(i => i.WantedRunning)) continue;
            PublishApp(Tend.Events.EventTypes.ScheduledRestart, app.Name, $"restart_schedule \"{schedule.Cron}\": reloading", new() { ["cron"] = schedule.Cron });
            try
            {
                await ReloadAsync(app.Name, null, null, ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException) { return; }
            catch (Exception e)
            {
                EngineLog.InternalError(_logger, app.Name, 0, "scheduled reload: " + e.Message);
            }
        }
    }

    /// <summary>
    /// watch: restart (or reload) the app when its files change, for as long as it exists. A change
    /// while the app is stopped does nothing; changes that come while a restart runs are kept (as one)
    /// and give one more restart after it, so the app always ends up running the latest files. Asked
    /// for, not a crash: the crash-loop guard does not count it.
    /// </summary>
    private async Task RunFileWatchAsync(App app, CancellationToken ct)
    {
        WatchSpec spec = app.Spec.Watch!;
        var triggers = System.Threading.Channels.Channel.CreateBounded<Watch.WatchTrigger>(
            new System.Threading.Channels.BoundedChannelOptions(1) { FullMode = System.Threading.Channels.BoundedChannelFullMode.DropOldest });
        using var watch = new Watch.FileWatch(spec, OwnPaths(app, spec), _time, t => triggers.Writer.TryWrite(t),
            why => PublishApp(Tend.Events.EventTypes.WatchPolling, app.Name, "watch: " + why, new() { ["reason"] = why }));
        app.WatchMode = () => watch.Mode;
        try
        {
            watch.Start();
            EngineLog.Watching(_logger, app.Name, string.Join(", ", spec.Paths), watch.Mode);
            await foreach (Watch.WatchTrigger trigger in triggers.Reader.ReadAllAsync(ct).ConfigureAwait(false))
            {
                if (_registry.Find(app.Name) != app) return;
                if (!app.Instances.Any(i => i.WantedRunning)) continue;
                string what = RelativeToWatch(spec, trigger.FirstPath) + (trigger.Changes > 1 ? $" and {trigger.Changes - 1} other path(s) changed" : " changed");
                string verb = spec.Action == WatchAction.Reload ? "reload" : "restart";
                PublishApp(Tend.Events.EventTypes.WatchRestart, app.Name, $"watch: {what}: {verb}", new()
                {
                    ["path"] = trigger.FirstPath, ["changes"] = Inv(trigger.Changes), ["action"] = verb,
                });
                try
                {
                    if (spec.Action == WatchAction.Reload) await ReloadAsync(app.Name, null, null, ct).ConfigureAwait(false);
                    else await OnInstancesAsync(app.Name, InstanceVerb.Restarted, i => _dependencies.RestartAsync(i, "watch: " + what), reverse: false, ct, withTree: true).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (ct.IsCancellationRequested) { return; }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    EngineLog.InternalError(_logger, app.Name, 0, $"watch {verb}: " + e.Message);
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        finally
        {
            app.WatchMode = null;
        }
    }

    /// <summary>Tend's own files, which never count as a change: the app's log files, and what Tend keeps
    /// in TEND_HOME (all of it but a directory that holds a watched path).</summary>
    private IEnumerable<string> OwnPaths(App app, WatchSpec spec)
    {
        foreach (Instance i in app.Instances) { yield return i.OutLogPath; yield return i.ErrLogPath; }
        if (!Directory.Exists(Home)) yield break;
        foreach (string entry in Directory.EnumerateFileSystemEntries(Home))
        {
            if (!spec.Paths.Any(p => p == entry || p.StartsWith(entry + "/", StringComparison.Ordinal))) yield return entry;
        }
    }

    private static string RelativeToWatch(WatchSpec spec, string path)
    {
        foreach (string root in spec.Paths)
        {
            if (path.StartsWith(root + "/", StringComparison.Ordinal)) return path[(root.Length + 1)..];
        }
        return path;
    }

    private void RemoveApp(App app)
    {
        if (app.Listeners is { } listeners && DescriptorStore is { } store)
            foreach (var (name, _) in listeners.HandOverHandles()) store.Forget(name);
        _registry.Remove(app);
        app.Release();
        _saver?.Request();
    }

    /// <summary>The daemon's one notify hub, made when the first app with ready: notify or a watchdog runs.</summary>
    private Health.NotifyHub GetNotifyHub()
    {
        lock (_gate) return _notifyHub ??= new Health.NotifyHub(Path.Combine(Home, "notify"), _logger);
    }

    internal PersistedState Snapshot()
    {
        var (tree, treeStatus) = TreeSnapshot();
        var (nextId, apps) = _registry.Read();
        return new PersistedState(PersistedState.CurrentVersion, nextId, [.. apps.Select(a => new PersistedApp(
            a.Spec, a.ConfigPath, [.. a.Instances.Select(i => i.Persisted())]))], tree, treeStatus);
    }

    public async ValueTask DisposeAsync()
    {
        await Sampler.DisposeAsync().ConfigureAwait(false);
        if (_saver is not null) await _saver.DisposeAsync().ConfigureAwait(false);
        foreach (App app in Apps) app.Release();
        _notifyHub?.Dispose();
        Cgroups?.RemoveIfEmpty();
    }
}
