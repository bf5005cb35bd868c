using Microsoft.Extensions.Logging;
using Tend.Config;
using Tend.Processes;

namespace Tend.Supervision;

// Reloads, deploys and scaling (issue 6). An app with listen: is replaced surge-first: the new
// instance starts beside the old one, and only once it is ready is the old one taken out of
// rotation (the proxy stops giving it connections, in-flight ones finish) and stopped gracefully.
// The listening sockets belong to the daemon, so at no moment is there nobody to accept.
// An app without listen: cannot run two copies of one instance side by side (they would fight
// over whatever port the app binds itself), so its reload is a rolling restart, still gated on
// readiness instance by instance.
//
// One rollout per app at a time: a second reload, deploy or scale is refused, not queued, so
// nobody waits behind a deploy without knowing it.
internal sealed class RolloutCoordinator(
    AppRegistry apps, DependencyGate gate, ChangeFeed changes, Events.EventHub events, TimeProvider time, ILogger logger, Action saveRequested)
{
    private static readonly TimeSpan s_defaultReadyWait = TimeSpan.FromSeconds(90);

    /// <summary>`tend reload app|all`: replace every running instance, <paramref name="parallelism"/> at a time (null: the app's reload_parallelism).</summary>
    public async Task<CommandOutcome> ReloadAsync(string target, int? parallelism, IReadOnlyDictionary<string, string>? updateEnv, CancellationToken ct = default)
    {
        List<App> targets = apps.AppsOf(target, "reload");
        var done = new List<AppReload>();
        foreach (App app in targets)
        {
            var signalled = new List<string>();
            bool nothingRunning = false;
            await CountedAsync(app, "reload", "rolling", WithRolloutAsync(app, "reload", async () =>
            {
                AppSpec before = app.Spec;
                if (updateEnv is not null) app.SetSpec(SpecRefresh.Read(app, updateEnv));
                // A stopped app stays stopped (it was stopped on purpose); the new spec, if any, is what it starts with.
                if (RunningOf(app).Count == 0)
                {
                    nothingRunning = true;
                    return;
                }
                // reload_signal: the program reloads itself in place, unless the spec changed, which
                // only new processes can take on.
                if (app.Spec.ReloadSignal is int reloadSignal && app.Spec == before)
                {
                    signalled.AddRange(ReloadInPlace(app, reloadSignal));
                    return;
                }
                await RollAsync(app, RunningOf(app), app.Spec, parallelism ?? app.Spec.ReloadParallelism, ct).ConfigureAwait(false);
            })).ConfigureAwait(false);
            done.Add(new AppReload(app.Name, signalled.Count > 0 ? app.Spec.ReloadSignal : null, signalled, nothingRunning));
        }
        saveRequested();
        return new AppsReloaded(done);
    }

    /// <summary>reload_signal: the signal to each running instance's main process; the processes stay.</summary>
    private List<string> ReloadInPlace(App app, int signal)
    {
        PublishApp(Tend.Events.EventTypes.ReloadStarted, app.Name, $"{Signals.Name(signal)} to each instance's main process (reload_signal)",
            new() { ["signal"] = Signals.Name(signal) });
        var hit = RunningOf(app).Where(i => i.Signal(signal, SignalScope.Main)).Select(i => i.Label).ToList();
        EngineLog.ReloadDone(logger, app.Name);
        PublishApp(Tend.Events.EventTypes.ReloadDone, app.Name, $"reloaded in place: {Signals.Name(signal)} to {string.Join(", ", hit)}");
        return hit;
    }

    /// <summary>`tend scale app N|+N|-N`: start or stop instances live; numbers stay dense, freed ones are reused.</summary>
    public async Task<CommandOutcome> ScaleAsync(string appName, int? count, int? delta, CancellationToken ct = default)
    {
        App app = apps.AppsOf(appName, "scale").Single();
        var started = new List<string>();
        var removed = new List<string>();
        int before = 0, after = 0;
        await WithRolloutAsync(app, "scale", async () =>
        {
            int current = app.Instances.Select(i => i.Number).Distinct().Count();
            before = current;
            int wanted = count ?? current + (delta ?? 0);
            after = wanted;
            if (wanted < 1) throw new RolloutRefusedException($"{app.Name} would have {wanted} instances; scale to 1 or more (tend stop {app.Name} stops it)");
            if (wanted > 1000) throw new RolloutRefusedException($"{app.Name}: {wanted} instances is more than the 1000 Tend allows");
            if (wanted > current)
            {
                var used = app.Instances.Select(i => i.Number).ToHashSet();
                var numbers = Enumerable.Range(0, int.MaxValue).Where(n => !used.Contains(n)).Take(wanted - current).ToList();
                var added = numbers.Select(n => app.NewInstance(apps.NextId(), n)).ToList();
                foreach (Instance i in added) app.AddInstance(i);
                app.SetSpec(app.Spec with { Instances = wanted });
                await Task.WhenAll(added.Select(gate.StartAsync)).ConfigureAwait(false);
                started.AddRange(added.Select(i => i.Label));
            }
            else if (wanted < current)
            {
                var retired = app.Instances.OrderByDescending(i => i.Number).Take(current - wanted).ToList();
                await Task.WhenAll(retired.Select(i => RetireAsync(app, i))).ConfigureAwait(false);
                app.SetSpec(app.Spec with { Instances = wanted });
                removed.AddRange(retired.Select(i => i.Label));
            }
            EngineLog.Scaled(logger, app.Name, current, wanted);
            PublishApp(Tend.Events.EventTypes.Scaled, app.Name, $"scaled from {current} to {wanted} instances", new() { ["from"] = Inv(current), ["to"] = Inv(wanted) });
        }).ConfigureAwait(false);
        saveRequested();
        return new Scaled(app.Name, before, after, started, removed, app.Instances.Count);
    }

    private static List<Instance> RunningOf(App app) => [.. app.Instances.Where(i => i.WantedRunning).OrderBy(i => i.Number)];

    /// <summary>
    /// `tend deploy app --strategy blue-green|canary`: the app's config is read again (a deploy is
    /// new code or settings), then rolled out. Blue-green starts a whole new set beside the old,
    /// waits for every new instance to be ready and to stay so for <paramref name="warmup"/>, then
    /// retires the old set; any failure removes the new set and the old one never stopped serving.
    /// Canary replaces <paramref name="canary"/> instances, watches them for <paramref name="watch"/>
    /// (still ready, no restart), then rolls the rest, or rolls the canaries back.
    /// </summary>
    public async Task<CommandOutcome> DeployAsync(string appName, string strategy, int? canary, TimeSpan? watch, TimeSpan? warmup,
        IReadOnlyDictionary<string, string> env, CancellationToken ct = default)
    {
        App app = apps.AppsOf(appName, "deploy").Single();
        Deployed? deployed = null;
        await CountedAsync(app, "deploy", strategy is "blue-green" or "canary" ? strategy : "unknown", WithRolloutAsync(app, "deploy", async () =>
        {
            AppSpec spec = SpecRefresh.Read(app, env);
            var olds = RunningOf(app);
            if (olds.Count == 0) throw new RolloutRefusedException($"{app.Name} has no running instance to deploy over; use tend start");
            if (app.Listeners is null)
                throw new RolloutRefusedException($"{app.Name} has no listen: address, so two sets cannot serve side by side; use tend reload (a rolling restart)");
            PublishApp(Tend.Events.EventTypes.DeployStarted, app.Name, $"{strategy} deploy started over {olds.Count} instances", new() { ["strategy"] = strategy, ["instances"] = Inv(olds.Count) });
            try
            {
                deployed = await DeployWithAsync(app, strategy, olds, spec, canary, watch, warmup, ct).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is RolloutFailedException or RolloutRefusedException)
            {
                PublishApp(Tend.Events.EventTypes.DeployFailed, app.Name, ex.Message, new() { ["strategy"] = strategy, ["reason"] = ex.Message });
                throw;
            }
            PublishApp(Tend.Events.EventTypes.DeployDone, app.Name, DeployedEventMessage(deployed!), new() { ["strategy"] = strategy });
        })).ConfigureAwait(false);
        saveRequested();
        return deployed!;
    }

    private static string DeployedEventMessage(Deployed d) => d.Strategy == DeployStrategy.BlueGreen
        ? $"deployed {d.App} blue-green: {d.Instances} new instances serving, the old set stopped"
        : $"deployed {d.App} by canary: {d.Canaries} watched for {Units.FormatDuration(d.Watch)}, then all {d.Instances} replaced";

    private async Task<Deployed> DeployWithAsync(App app, string strategy, List<Instance> olds, AppSpec spec, int? canary, TimeSpan? watch, TimeSpan? warmup,
        CancellationToken ct)
    {
        switch (strategy)
        {
            case "blue-green":
                await BlueGreenAsync(app, olds, spec, warmup ?? TimeSpan.Zero, ct).ConfigureAwait(false);
                return new Deployed(app.Name, DeployStrategy.BlueGreen, olds.Count, 0, TimeSpan.Zero);
            case "canary":
                int n = canary ?? 1;
                if (n < 1 || n > olds.Count) throw new RolloutRefusedException($"--canary {n}: {app.Name} runs {olds.Count} instances; pick 1..{olds.Count}");
                await CanaryAsync(app, olds, spec, n, watch ?? TimeSpan.FromSeconds(30), ct).ConfigureAwait(false);
                return new Deployed(app.Name, DeployStrategy.Canary, olds.Count, n, watch ?? TimeSpan.FromSeconds(30));
            default:
                throw new RolloutRefusedException($"unknown strategy \"{strategy}\" (blue-green or canary; tend reload is the rolling one)");
        }
    }

    private async Task BlueGreenAsync(App app, List<Instance> olds, AppSpec spec, TimeSpan warmup, CancellationToken ct)
    {
        var greens = olds.Select(old => app.NewInstance(apps.NextId(), old.Number)).ToList();
        foreach (Instance g in greens) { g.PinnedSpec = spec; app.AddInstance(g); }
        await Task.WhenAll(greens.Select(gate.StartAsync)).ConfigureAwait(false);
        string?[] failures = await Task.WhenAll(greens.Select(g => WaitReadyAsync(g, ct))).ConfigureAwait(false);
        string? failure = failures.FirstOrDefault(f => f is not null);
        if (failure is null && warmup > TimeSpan.Zero) failure = await WatchAsync(greens, warmup, ct).ConfigureAwait(false);
        if (failure is not null)
        {
            await Task.WhenAll(greens.Select(g => RetireAsync(app, g))).ConfigureAwait(false);
            throw new RolloutFailedException($"blue-green deploy of {app.Name} abandoned: {failure}; the old set kept serving");
        }
        app.SetSpec(spec with { Instances = app.Spec.Instances });
        foreach (Instance g in greens) g.PinnedSpec = null;
        await Task.WhenAll(olds.Select(o => RetireAsync(app, o))).ConfigureAwait(false);
    }

    private async Task CanaryAsync(App app, List<Instance> olds, AppSpec spec, int n, TimeSpan watch, CancellationToken ct)
    {
        var first = olds.Take(n).ToList();
        await ReplaceBatchAsync(app, first, spec, ct).ConfigureAwait(false);
        var canaries = app.Instances.Where(i => i.PinnedSpec == spec && first.Any(o => o.Number == i.Number)).ToList();
        if (await WatchAsync(canaries, watch, ct).ConfigureAwait(false) is string failure)
        {
            // Roll back: the canaries are replaced by instances of the spec everyone else still runs.
            await ReplaceBatchAsync(app, canaries, app.Spec, ct).ConfigureAwait(false);
            throw new RolloutFailedException($"canary deploy of {app.Name} rolled back: {failure}");
        }
        app.SetSpec(spec with { Instances = app.Spec.Instances });
        foreach (Instance c in canaries) c.PinnedSpec = null;
        await RollAsync(app, olds.Skip(n).ToList(), app.Spec, app.Spec.ReloadParallelism, ct).ConfigureAwait(false);
    }

    /// <summary>Null when every one of <paramref name="instances"/> stays online, ready and unrestarted for <paramref name="period"/>.</summary>
    private async Task<string?> WatchAsync(List<Instance> instances, TimeSpan period, CancellationToken ct)
    {
        var restarts = instances.ToDictionary(i => i, i => i.Snapshot().Restarts);
        // Woken by every change; the period running out without a failure is the success.
        return await changes.WaitAsync(() =>
        {
            foreach (Instance i in instances)
            {
                InstanceSnapshot now = i.Snapshot();
                if (now.Restarts != restarts[i]) return $"{i.Label} restarted while watched ({now.LastRestartReason})";
                if (!now.IsServing) return $"{i.Label} is {now.Status.ToWire()}{(now.Ready ? "" : ", not ready")} while watched";
            }
            return null;
        }, period, time, ct).ConfigureAwait(false);
    }

    /// <summary>Counts a reload or deploy by how it ended: success, failed (rolled back or abandoned), refused.</summary>
    private static async Task CountedAsync(App app, string kind, string strategy, Task rollout)
    {
        string result = "failure";
        try
        {
            await rollout.ConfigureAwait(false);
            result = "success";
        }
        catch (RolloutRefusedException)
        {
            result = "refused";
            throw;
        }
        finally { app.Metrics.CountRollout(kind, strategy, result); }
    }

    private static async Task WithRolloutAsync(App app, string verb, Func<Task> rollout)
    {
        if (!await app.RolloutGate.WaitAsync(0).ConfigureAwait(false))
            throw new RolloutRefusedException($"{app.Name}: a reload, deploy or scale is already running; {verb} refused (wait for it to finish)");
        try { await rollout().ConfigureAwait(false); }
        finally { app.RolloutGate.Release(); }
    }

    /// <summary>--update-env: the app's config file (and the caller's environment) read again.</summary>
    /// <summary>Replace the running instances of <paramref name="app"/> with ones running <paramref name="spec"/>, in batches.</summary>
    private async Task RollAsync(App app, IReadOnlyList<Instance> olds, AppSpec spec, int parallelism, CancellationToken ct)
    {
        EngineLog.ReloadStarting(logger, app.Name, olds.Count, parallelism);
        PublishApp(Tend.Events.EventTypes.ReloadStarted, app.Name, $"replacing {olds.Count} instances, {parallelism} at a time",
            new() { ["instances"] = Inv(olds.Count), ["parallelism"] = Inv(parallelism) });
        try
        {
            await RollBatchesAsync(app, olds, spec, parallelism, ct).ConfigureAwait(false);
        }
        catch (RolloutFailedException ex)
        {
            PublishApp(Tend.Events.EventTypes.ReloadFailed, app.Name, ex.Message, new() { ["reason"] = ex.Message });
            throw;
        }
        EngineLog.ReloadDone(logger, app.Name);
        PublishApp(Tend.Events.EventTypes.ReloadDone, app.Name, "reload done");
    }

    private async Task RollBatchesAsync(App app, IReadOnlyList<Instance> olds, AppSpec spec, int parallelism, CancellationToken ct)
    {
        foreach (var batch in olds.Chunk(Math.Max(1, parallelism)))
        {
            ct.ThrowIfCancellationRequested();
            if (app.Listeners is null)
            {
                // Nothing to hand over: restart in place, and go on only once it is ready again.
                foreach (Instance old in batch) old.PinnedSpec = spec == app.Spec ? null : spec;
                await Task.WhenAll(batch.Select(i => gate.RestartAsync(i, "reload"))).ConfigureAwait(false);
                string?[] failures = await Task.WhenAll(batch.Select(i => WaitReadyAsync(i, ct))).ConfigureAwait(false);
                if (failures.FirstOrDefault(f => f is not null) is string failure)
                    throw new RolloutFailedException($"reload of {app.Name} stopped: {failure}");
                continue;
            }
            await ReplaceBatchAsync(app, batch, spec, ct).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Surge: start a replacement beside each instance of <paramref name="batch"/>, wait for all to be
    /// ready, then retire the old ones. A replacement that fails is removed and its old instance
    /// keeps serving; the ones that succeeded take over from theirs; then the failure is reported.
    /// </summary>
    private async Task ReplaceBatchAsync(App app, IReadOnlyList<Instance> batch, AppSpec spec, CancellationToken ct)
    {
        var pairs = batch.Select(old => (Old: old, New: app.NewInstance(apps.NextId(), old.Number))).ToList();
        foreach (var (_, replacement) in pairs)
        {
            if (spec != app.Spec) replacement.PinnedSpec = spec;
            app.AddInstance(replacement);
        }
        await Task.WhenAll(pairs.Select(p => gate.StartAsync(p.New))).ConfigureAwait(false);
        string?[] failures = await Task.WhenAll(pairs.Select(p => WaitReadyAsync(p.New, ct))).ConfigureAwait(false);

        var retire = new List<Task>();
        string? firstFailure = null;
        for (int k = 0; k < pairs.Count; k++)
        {
            var (old, replacement) = pairs[k];
            if (failures[k] is string failure)
            {
                firstFailure ??= failure;
                EngineLog.ReplacementFailed(logger, replacement.Label, failure);
                events.Publish(Tend.Events.EventTypes.ReplacementFailed, app.Name, replacement.Number, null, $"replacement {replacement.Label} failed: {failure}", new Dictionary<string, string> { ["reason"] = failure });
                retire.Add(RetireAsync(app, replacement));
            }
            else
            {
                int oldPid = old.LiveProcess?.Pid ?? 0, newPid = replacement.LiveProcess?.Pid ?? 0;
                EngineLog.Replaced(logger, old.Label, oldPid, newPid);
                events.Publish(Tend.Events.EventTypes.InstanceReplaced, app.Name, old.Number, newPid, $"{old.Label} replaced: pid {oldPid} → {newPid}",
                    new Dictionary<string, string> { ["old_pid"] = Inv(oldPid), ["new_pid"] = Inv(newPid), ["old_id"] = Inv(old.Id), ["new_id"] = Inv(replacement.Id) });
                retire.Add(RetireAsync(app, old));
            }
        }
        await Task.WhenAll(retire).ConfigureAwait(false);
        if (firstFailure is not null)
            throw new RolloutFailedException($"reload of {app.Name} stopped: {firstFailure}; the instances not replaced keep serving");
    }

    /// <summary>
    /// Out of rotation, then stopped gracefully, then forgotten. In proxy mode the proxy first gets
    /// up to a second (less if kill_timeout is shorter) for connections to the instance to end on
    /// their own, so short requests in flight finish before the stop signal. It cannot tell an idle
    /// keep-alive connection from a busy one, so it does not wait longer: the app's own drain on its
    /// stop signal (answer what is in flight, close what is idle) ends the rest, bounded by
    /// kill_timeout. Waiting for keep-alive clients to leave would make every reload take kill_timeout.
    /// </summary>
    private static async Task RetireAsync(App app, Instance instance)
    {
        instance.Draining = true;
        app.Changed();
        if (app.Listeners is { } listeners)
        {
            TimeSpan kill = instance.Spec.KillTimeout;
            TimeSpan grace = kill == Timeout.InfiniteTimeSpan || kill > s_proxyGrace ? s_proxyGrace : kill;
            await listeners.DrainAsync(instance.BackendName, grace).ConfigureAwait(false);
        }
        await instance.StopAsync().ConfigureAwait(false);
        app.RemoveInstance(instance);
    }

    private static readonly TimeSpan s_proxyGrace = TimeSpan.FromSeconds(1);

    private void PublishApp(string type, string app, string message, Dictionary<string, string>? data = null) =>
        events.Publish(type, app, null, null, message, data);

    private static string Inv(long value) => value.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>
    /// Null once <paramref name="instance"/> is online and ready; else why it will not be: it exited
    /// (its restart policy may already be starting it again, which a rollout does not wait for),
    /// ended stopped or errored, or outlived its ready_timeout.
    /// </summary>
    private async Task<string?> WaitReadyAsync(Instance instance, CancellationToken ct)
    {
        TimeSpan limit = instance.Spec.Ready?.Timeout ?? s_defaultReadyWait;
        if (limit != Timeout.InfiniteTimeSpan) limit += TimeSpan.FromSeconds(5);
        int restartsBefore = instance.Snapshot().Restarts;
        string? verdict = await changes.WaitAsync(() =>
        {
            InstanceSnapshot now = instance.Snapshot();
            if (now.IsServing) return "";
            bool exited = now.Restarts > restartsBefore || (now.Status == InstanceStatus.Waiting && now.StatusReason?.StartsWith("restart after", StringComparison.Ordinal) == true);
            if (exited || now.IsFinal)
            {
                string why = now.LastExitReason is { } reason ? reason + " " + DependencyGate.DescribeExit(now.LastExit) : now.StatusReason ?? now.Status.ToWire();
                return $"{instance.Label} failed before it was ready: {why}";
            }
            return null;
        }, limit, time, ct).ConfigureAwait(false);
        return verdict switch
        {
            "" => null,
            null => $"{instance.Label} not ready within {Units.FormatDuration(instance.Spec.Ready?.Timeout ?? s_defaultReadyWait)}",
            _ => verdict,
        };
    }
}

/// <summary>A rollout that must not start (one is running, nothing to re-read); the CLI exits 1.</summary>
public sealed class RolloutRefusedException(string message) : Exception(message);

/// <summary>A rollout that started and stopped part-way; what was not replaced keeps serving. The CLI exits 1.</summary>
public sealed class RolloutFailedException(string message) : Exception(message);
