using Microsoft.Extensions.Logging;
using Tend.Api;
using Tend.Config;
using Tend.Processes;

namespace Tend.Supervision;

/// <summary>One declared app and its instances. The spec is swapped whole when a config changes it.</summary>
public sealed class App
{
    private readonly Action _changed;
    private volatile AppSpec _spec;

    internal App(AppSpec spec, string? configPath, string home, IEnumerable<int> instanceIds, TimeProvider time, ILogger logger, Action changed)
    {
        _spec = spec;
        ConfigPath = configPath;
        Home = home;
        _changed = changed;
        Instances = [.. instanceIds.Select((id, n) => new Instance(this, id, n, time, logger))];
    }

    public string Name => _spec.Name;
    public AppSpec Spec => _spec;
    public string? ConfigPath { get; }
    internal string Home { get; }
    public IReadOnlyList<Instance> Instances { get; }

    internal void Changed() => _changed();

    /// <summary>The supervisor this app is a child of, when it runs in a tree (else the flat root).</summary>
    internal SupervisorNode? Node { get; set; }

    /// <summary>Where instances get their NOTIFY_SOCKET (made on first use).</summary>
    internal Func<Health.NotifyHub>? NotifyHub { get; init; }

    /// <summary>The app is gone: give back what its instances hold beyond a run (their notify sockets).</summary>
    internal void Release()
    {
        foreach (Instance i in Instances) i.Release();
    }

    /// <summary>Copy instances' output to the console too (`tend run`).</summary>
    internal bool EchoOutput { get; init; }

    public Task StartAsync() => Task.WhenAll(Instances.Select(i => i.StartAsync()));

    public Task StopAsync() => Task.WhenAll(Instances.Select(i => i.StopAsync()));

    public AppInfo ToInfo() => new(
        Name, Spec.Command, [.. Spec.Args], Spec.Cwd, Spec.Instances, RestartTracker.Describe(Spec.Restart),
        Spec.MaxRestarts, (long)Spec.MinUptime.TotalMilliseconds, (long)Spec.RestartDelay.TotalMilliseconds,
        Signals.Name(Spec.StopSignal), (long)Spec.KillTimeout.TotalMilliseconds, [.. Spec.StopExitCodes],
        Spec.MaxMemoryBytes, ConfigPath, Spec.Env, [.. Instances.Select(i => i.ToDetail())],
        Node is null ? null : [.. SupervisorPath()],
        Spec.DependsOn.Count == 0 ? null : [.. Spec.DependsOn.Select(d => $"{d.App} ({d.Condition.ToString().ToLowerInvariant()})")],
        Spec.Ready is { } ready ? ready.Notify ? "notify (READY=1)" : DescribeProbe(ready.Probe!) : null,
        Spec.Ready is { Timeout: var t } ? (t == Timeout.InfiniteTimeSpan ? -1 : (long)t.TotalMilliseconds) : null,
        Spec.Live is { } live ? DescribeProbe(live) : null,
        Spec.Watchdog is { } watchdog ? (long)watchdog.TotalMilliseconds : null,
        Spec.Critical);

    private static string DescribeProbe(Health.ProbeSpec p) =>
        $"{p.Describe()} (every {Units.FormatDuration(p.Interval)}, timeout {Units.FormatDuration(p.Timeout)}, " +
        $"{p.FailureThreshold} failures / {p.SuccessThreshold} successes" +
        (p.InitialDelay > TimeSpan.Zero ? $", after {Units.FormatDuration(p.InitialDelay)})" : ")");

    /// <summary>The supervisors above this app, root first.</summary>
    private IEnumerable<string> SupervisorPath()
    {
        var path = new List<string>();
        for (SupervisorNode? n = Node; n is not null; n = n.Parent) path.Add(n.Name);
        path.Reverse();
        return path;
    }
}
