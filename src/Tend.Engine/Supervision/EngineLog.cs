using Microsoft.Extensions.Logging;

namespace Tend.Supervision;

/// <summary>
/// The supervision events that go to daemon.log. Event ids are stable (1xxx: instances,
/// 2xxx: apps and the daemon, 3xxx: state); tools may filter on them.
/// </summary>
internal static partial class EngineLog
{
    [LoggerMessage(1001, LogLevel.Information, "{App}#{Instance} started pid {Pid}")]
    public static partial void Started(ILogger logger, string app, int instance, int pid);

    [LoggerMessage(1091, LogLevel.Information, "{App}#{Instance} pid {Pid} adopted from the previous daemon ({How})")]
    public static partial void Adopted(ILogger logger, string app, int instance, int pid, string how);

    [LoggerMessage(1092, LogLevel.Warning, "{App}#{Instance} pid {Pid} could not be adopted ({Why}): stopping it and starting afresh")]
    public static partial void AdoptFailed(ILogger logger, string app, int instance, int pid, string why);

    [LoggerMessage(1093, LogLevel.Information, "handing over {Instances} running instances and {Descriptors} descriptors to the next daemon")]
    public static partial void HandingOver(ILogger logger, int instances, int descriptors);

    [LoggerMessage(1002, LogLevel.Warning, "{App}#{Instance} pid {Pid} exited: {Exit} after {UptimeMs} ms")]
    public static partial void Exited(ILogger logger, string app, int instance, int pid, string exit, long uptimeMs);

    [LoggerMessage(1003, LogLevel.Information, "{App}#{Instance} restarting in {DelayMs} ms (restart {Restarts}, reason: {Reason})")]
    public static partial void Restarting(ILogger logger, string app, int instance, long delayMs, int restarts, string reason);

    [LoggerMessage(1095, LogLevel.Error, "{App}#{Instance}: {What}")]
    public static partial void InternalError(ILogger logger, string app, int instance, string what);

    [LoggerMessage(1096, LogLevel.Information, "{App}: watching {Paths} ({Mode})")]
    public static partial void Watching(ILogger logger, string app, string paths, string mode);

    [LoggerMessage(1004, LogLevel.Error, "{App}#{Instance} errored: {Reason}")]
    public static partial void Errored(ILogger logger, string app, int instance, string reason);

    [LoggerMessage(1005, LogLevel.Error, "{App}#{Instance} failed to start: {Reason}")]
    public static partial void SpawnFailed(ILogger logger, string app, int instance, string reason);

    [LoggerMessage(1006, LogLevel.Information, "{App}#{Instance} pid {Pid} stopped: {Exit}")]
    public static partial void Stopped(ILogger logger, string app, int instance, int pid, string exit);

    [LoggerMessage(1007, LogLevel.Warning, "{App}#{Instance} pid {Pid} uses {MemoryBytes} bytes, above max_memory {LimitBytes}: restarting")]
    public static partial void MemoryExceeded(ILogger logger, string app, int instance, int pid, long memoryBytes, long limitBytes);

    [LoggerMessage(1008, LogLevel.Warning, "{App}#{Instance} dropped {Dropped} {Stream} log lines so far: {Error}")]
    public static partial void LogLinesDropped(ILogger logger, string app, int instance, string stream, long dropped, string error);

    [LoggerMessage(1009, LogLevel.Information, "{App}#{Instance} stays {Status}: {Reason}")]
    public static partial void NotRestarted(ILogger logger, string app, int instance, string status, string reason);

    [LoggerMessage(1010, LogLevel.Information, "{App}#{Instance} pid {Pid} sent {Signal}")]
    public static partial void Signalled(ILogger logger, string app, int instance, int pid, string signal);

    [LoggerMessage(1011, LogLevel.Error, "{App}#{Instance} not started: {Reason}")]
    public static partial void Blocked(ILogger logger, string app, int instance, string reason);

    [LoggerMessage(1012, LogLevel.Information, "{App} waits for {Dependency} to be {Condition}")]
    public static partial void WaitingFor(ILogger logger, string app, string dependency, string condition);

    [LoggerMessage(1013, LogLevel.Information, "{App}: {Dependency} is {Condition}")]
    public static partial void DependencyMet(ILogger logger, string app, string dependency, string condition);

    [LoggerMessage(1014, LogLevel.Information, "{Label} is ready: {Why}")]
    public static partial void BecameReady(ILogger logger, string label, string why);

    [LoggerMessage(1015, LogLevel.Warning, "{Label} is not ready: {Why}")]
    public static partial void BecameUnready(ILogger logger, string label, string why);

    [LoggerMessage(1016, LogLevel.Warning, "{Label} failed a health check and is stopped: {Reason}")]
    public static partial void HealthFailed(ILogger logger, string label, string reason);

    [LoggerMessage(1017, LogLevel.Information, "{App}#{Instance} status: {Text}")]
    public static partial void StatusText(ILogger logger, string app, int instance, string text);

    [LoggerMessage(1018, LogLevel.Information, "{Label} reports it is stopping (STOPPING=1)")]
    public static partial void ReportsStopping(ILogger logger, string label);

    [LoggerMessage(2010, LogLevel.Information, "reload of {App}: replacing {Instances} instances, {Parallelism} at a time")]
    public static partial void ReloadStarting(ILogger logger, string app, int instances, int parallelism);

    [LoggerMessage(2011, LogLevel.Information, "{Label} replaced: pid {OldPid} → {NewPid}")]
    public static partial void Replaced(ILogger logger, string label, int oldPid, int newPid);

    [LoggerMessage(2012, LogLevel.Warning, "replacement {Label} failed: {Reason}")]
    public static partial void ReplacementFailed(ILogger logger, string label, string reason);

    [LoggerMessage(2013, LogLevel.Information, "reload of {App} done")]
    public static partial void ReloadDone(ILogger logger, string app);

    [LoggerMessage(2014, LogLevel.Information, "{App} scaled from {From} to {To} instances")]
    public static partial void Scaled(ILogger logger, string app, int from, int to);

    [LoggerMessage(2001, LogLevel.Information, "app {App} added ({Instances} instances)")]
    public static partial void AppAdded(ILogger logger, string app, int instances);

    [LoggerMessage(2002, LogLevel.Information, "app {App} deleted")]
    public static partial void AppDeleted(ILogger logger, string app);

    [LoggerMessage(2003, LogLevel.Information, "app {App} spec changed: replacing its instances")]
    public static partial void AppReplaced(ILogger logger, string app);

    [LoggerMessage(3001, LogLevel.Warning, "pid {Pid} of {App}#{Instance} outlived the previous daemon: stopping it")]
    public static partial void OrphanStopping(ILogger logger, string app, int instance, int pid);

    [LoggerMessage(3002, LogLevel.Error, "state file {Path} unreadable: {Error}")]
    public static partial void StateUnreadable(ILogger logger, string path, string error);

    [LoggerMessage(3004, LogLevel.Information, "restored {Apps} apps from {Path}")]
    public static partial void StateRestored(ILogger logger, int apps, string path);

    [LoggerMessage(1090, LogLevel.Warning, "killed what the last daemon's apps left running in {Cgroup}")]
    public static partial void CgroupLeftoversKilled(ILogger logger, string cgroup);
}
