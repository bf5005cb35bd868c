using Microsoft.Extensions.Logging;
using Tend.Config;

namespace Tend.Supervision;

// depends_on. An app with dependencies starts like any other, except that each instance first
// waits, without holding up the command that started it, until every dependency has reached its
// condition; if one never can, the instance is blocked with the reason and never spawned.
//
// The wait subscribes to the supervisor's change feed and looks at the dependency again after every
// change (taking the next change before looking, so a transition in between is never missed).
internal sealed class DependencyGate(AppRegistry apps, ChangeFeed changes, TimeProvider time, ILogger logger)
{
    /// <summary>Start one instance, through the dependency gate when its app has depends_on.</summary>
    public Task StartAsync(Instance instance)
    {
        if (instance.App.ListenError is string listenError) return instance.StartAsync(_ => Task.FromResult<string?>(listenError));
        AppSpec spec = instance.Spec;
        if (spec.DependsOn.Count == 0) return instance.StartAsync();
        return instance.StartAsync(ct => WaitForDependenciesAsync(spec, ct));
    }

    public Task RestartAsync(Instance instance, string reason)
    {
        if (instance.App.ListenError is string listenError) return instance.RestartAsync(reason, _ => Task.FromResult<string?>(listenError));
        AppSpec spec = instance.Spec;
        if (spec.DependsOn.Count == 0) return instance.RestartAsync(reason);
        return instance.RestartAsync(reason, ct => WaitForDependenciesAsync(spec, ct));
    }

    /// <summary>Starts the app's instances; a job's run when its schedule says (docs/jobs.md), so not here.</summary>
    public Task StartAppAsync(App app) => app.Spec.Job is not null ? Task.CompletedTask : Task.WhenAll(app.Instances.Select(StartAsync));

    /// <summary>Null once every dependency of <paramref name="spec"/> is met; else why it never will be.</summary>
    private async Task<string?> WaitForDependenciesAsync(AppSpec spec, CancellationToken ct)
    {
        foreach (Dependency dep in spec.DependsOn)
        {
            string condition = dep.Condition.ToString().ToLowerInvariant();
            EngineLog.WaitingFor(logger, spec.Name, dep.App, condition);
            string verdict = (await changes.WaitAsync(() => Check(dep) switch
            {
                (_, string failure) => $"dependency {dep.App} ({condition}) failed: {failure}",
                (true, _) => "",
                _ => null,
            }, Timeout.InfiniteTimeSpan, time, ct).ConfigureAwait(false))!;
            if (verdict.Length > 0) return verdict;
            EngineLog.DependencyMet(logger, spec.Name, dep.App, condition);
        }
        return null;
    }

    /// <summary>
    /// The first dependency of <paramref name="spec"/> with while_down: hold or stop that is down now
    /// (no instance ready), or null. A completed dependency (a one-shot job) is never down.
    /// </summary>
    public string? DownDependency(AppSpec spec)
    {
        foreach (Dependency dep in spec.DependsOn)
        {
            if (dep.WhileDown == WhileDown.Ignore || dep.Condition == DependencyCondition.Completed) continue;
            if (apps.Find(dep.App) is not App app) return dep.App;
            if (!app.Instances.Any(i => i.Snapshot() is { Status: InstanceStatus.Online, Ready: true })) return dep.App;
        }
        return null;
    }

    /// <summary>Wait until no hold/stop dependency of <paramref name="spec"/> is down; false when cancelled first.</summary>
    public async Task<bool> WaitUpAsync(AppSpec spec, CancellationToken ct)
    {
        try
        {
            await changes.WaitAsync(() => DownDependency(spec) is null ? "" : null, Timeout.InfiniteTimeSpan, time, ct).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException) { return false; }
    }

    /// <summary>
    /// while_down: stop: watch the app's stop dependencies for as long as <paramref name="ct"/> runs; when
    /// one goes down, each running instance is stopped and held until it is ready again.
    /// </summary>
    public async Task WatchStopDependenciesAsync(App app, CancellationToken ct)
    {
        if (!app.Spec.DependsOn.Any(d => d.WhileDown == WhileDown.Stop)) return;
        var stopOnly = app.Spec with { DependsOn = new EquatableArray<Dependency>(app.Spec.DependsOn.Where(d => d.WhileDown == WhileDown.Stop)) };
        try
        {
            while (!ct.IsCancellationRequested)
            {
                // Up first (it may not have started yet), then down.
                await changes.WaitAsync(() => DownDependency(stopOnly) is null ? "" : null, Timeout.InfiniteTimeSpan, time, ct).ConfigureAwait(false);
                string down = (await changes.WaitAsync(() => DownDependency(stopOnly), Timeout.InfiniteTimeSpan, time, ct).ConfigureAwait(false))!;
                foreach (Instance instance in app.Instances) instance.HoldForDependency(down);
            }
        }
        catch (OperationCanceledException) { }
    }

    /// <summary>Whether a dependency's condition holds now, or why it cannot hold any more.</summary>
    private (bool Met, string? Failure) Check(Dependency dep)
    {
        if (apps.Find(dep.App) is not App app) return (false, $"{dep.App} is not managed by this daemon");
        var instances = app.Instances.Select(i => i.Snapshot()).ToList();
        if (dep.Condition == DependencyCondition.Completed)
        {
            // Done when every instance stayed stopped after exiting 0. Anything final and not
            // that (a non-zero exit its policy does not retry, a crash loop given up) fails.
            foreach (InstanceSnapshot i in instances)
            {
                switch (i.Status)
                {
                    case InstanceStatus.Stopped when i.LastExit is { Code: 0 }:
                        continue;
                    case InstanceStatus.Stopped:
                        return (false, $"{i.Label} {DescribeExit(i.LastExit)}");
                    case InstanceStatus.Errored or InstanceStatus.Blocked:
                        return (false, $"{i.Label} is {i.Status.ToWire()}: {i.StatusReason}");
                    default:
                        return (false, null);
                }
            }
            return (true, null);
        }

        // started: every instance spawned (online); ready: every instance ready as its ready:
        // setting says (online, for an app without one). A dependency that ended up stopped,
        // errored or blocked will not get there.
        bool needReady = dep.Condition == DependencyCondition.Ready;
        foreach (InstanceSnapshot i in instances)
        {
            if (i.Status == InstanceStatus.Online && (!needReady || i.Ready)) continue;
            if (i.IsFinal) return (false, $"{i.Label} is {i.Status.ToWire()}" + (i.StatusReason is { } why ? $": {why}" : ""));
            return (false, null);
        }
        return (true, null);
    }

    public static string DescribeExit(Processes.ExitStatus? exit) =>
        exit is { Signal: int signal } ? $"was killed by {Processes.Signals.Name(signal)}"
        : exit is { Code: int code } ? $"exited with code {code}" : "is stopped";
}
