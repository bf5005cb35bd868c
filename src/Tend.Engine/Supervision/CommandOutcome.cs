namespace Tend.Supervision;

/// <summary>
/// What a command did, in the engine's terms: which apps or instances it touched and how, what it
/// left alone and why. The daemon turns an outcome into the API's answer and the sentence `tend`
/// prints (Tend.Daemon's Wire/OutcomeText); the engine never words one.
/// </summary>
public abstract record CommandOutcome
{
    /// <summary>The apps or instances (app#i) touched, in the order they were touched.</summary>
    public abstract IReadOnlyList<string> Affected { get; }
}

/// <summary>What a command did to each instance it named.</summary>
public enum InstanceVerb
{
    Started,
    Stopped,
    Restarted,
    Reset,
    Flushed,
    LogsReopened,
}

/// <summary>`tend start CONFIG`: apps added, replaced or started again; those already running as declared are left alone.</summary>
public sealed record AppsStarted(IReadOnlyList<string> Started, IReadOnlyList<string> AlreadyRunning) : CommandOutcome
{
    public override IReadOnlyList<string> Affected => Started;
}

/// <summary>What `tend startOrReload` / `startOrRestart CONFIG` does to the apps of the file that already run from it.</summary>
public enum RunningAppAction
{
    Reload,
    Restart,
}

/// <summary>A command made of steps (`tend startOrReload`: the start of the new apps, then a reload, and maybe a scale, per running one), in order.</summary>
public sealed record StepsTaken(IReadOnlyList<CommandOutcome> Steps) : CommandOutcome
{
    public override IReadOnlyList<string> Affected => [.. Steps.SelectMany(s => s.Affected).Distinct()];
}

/// <summary>`tend start CONFIG` with a supervision tree that already runs, unchanged, from <see cref="ConfigPath"/>.</summary>
public sealed record TreeAlreadyRunning(string? ConfigPath) : CommandOutcome
{
    public override IReadOnlyList<string> Affected => [];
}

/// <summary>start, stop, restart, reset or flush of instances (an app, app#i, an id or all).</summary>
public sealed record InstancesActed(InstanceVerb Verb, IReadOnlyList<string> Instances) : CommandOutcome
{
    public override IReadOnlyList<string> Affected => Instances;
}

/// <summary>start, stop or restart of a supervisor: its subtree's instances, in order.</summary>
public sealed record SubtreeActed(InstanceVerb Verb, string Supervisor, IReadOnlyList<string> Instances) : CommandOutcome
{
    public override IReadOnlyList<string> Affected => Instances;
}

/// <summary>`tend signal`: the instances whose main process (or group) took <see cref="Signal"/>; empty when none runs.</summary>
public sealed record Signalled(string Target, int Signal, SignalScope Scope, IReadOnlyList<string> Instances) : CommandOutcome
{
    public override IReadOnlyList<string> Affected => Instances;
}

/// <summary>`tend delete`: the apps stopped and forgotten.</summary>
public sealed record AppsDeleted(IReadOnlyList<string> Apps) : CommandOutcome
{
    public override IReadOnlyList<string> Affected => Apps;
}

/// <summary>`tend save`: the apps written to the dump at <see cref="Path"/>.</summary>
public sealed record StateSaved(IReadOnlyList<string> Apps, string Path) : CommandOutcome
{
    public override IReadOnlyList<string> Affected => Apps;
}

/// <summary>`tend resurrect`: what starting the dump did, and what could not be read from it.</summary>
public sealed record Resurrected(CommandOutcome Started, IReadOnlyList<string> Problems) : CommandOutcome
{
    public override IReadOnlyList<string> Affected => Started.Affected;
}

/// <summary>`tend reload`: each app, replaced by new processes or (reload_signal) signalled in place.</summary>
public sealed record AppsReloaded(IReadOnlyList<AppReload> Apps) : CommandOutcome
{
    public override IReadOnlyList<string> Affected => [.. Apps.Select(a => a.App)];
}

/// <summary>
/// One app of a reload. <see cref="InPlaceSignal"/> is set when it reloaded itself on a signal to
/// <see cref="Signalled"/>; <see cref="NothingRunning"/> when every instance was stopped, so nothing was replaced.
/// </summary>
public sealed record AppReload(string App, int? InPlaceSignal, IReadOnlyList<string> Signalled, bool NothingRunning = false);

/// <summary>`tend scale`: from and to how many instances, and those started or removed (none: it already had as many).</summary>
public sealed record Scaled(string App, int From, int To, IReadOnlyList<string> Started, IReadOnlyList<string> Removed, int InstancesNow) : CommandOutcome
{
    public override IReadOnlyList<string> Affected => Started.Count > 0 ? Started : Removed;
}

/// <summary>`tend deploy`: the strategy carried out over <see cref="Instances"/> instances.</summary>
public sealed record Deployed(string App, DeployStrategy Strategy, int Instances, int Canaries, TimeSpan Watch) : CommandOutcome
{
    public override IReadOnlyList<string> Affected => [App];
}

public enum DeployStrategy
{
    BlueGreen,
    Canary,
}
