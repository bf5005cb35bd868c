using Microsoft.Extensions.Logging;
using Tend.Config;
using Tend.Health;
using Tend.Logs;
using Tend.Processes;

namespace Tend.Supervision;

/// <summary>
/// What a new daemon takes over of a run the previous one started (docs/upgrade.md): the process
/// (adopted by pid and start time), the read ends of its stdout and stderr pipes, and what it was.
/// </summary>
/// <param name="How">"upgrade" (the same process replaced its image) or "crash" (the descriptors came from the service manager's store).</param>
internal sealed record CarriedRun(ChildProcess Child, Io.SafeFdHandle Out, Io.SafeFdHandle Err, int Restarts, bool Ready, DateTimeOffset? StartedAt, string How);

/// <summary>A start that failed before the instance ran (the spawn, or what watching the process needs); the process, if any, is gone.</summary>
internal sealed class FailedStartException(string message, Exception inner) : Exception(message, inner);

/// <summary>
/// One spawn of an instance and everything tied to it: the process, the two log writers draining
/// its pipes, its health checks and its .NET counter session. Started together, torn down together,
/// so no run leaves a writer, a probe or a process behind. <see cref="Instance"/> decides when; this
/// only carries it out.
/// </summary>
internal sealed class InstanceProcess
{
    private readonly TimeProvider _time;
    private Runtime.DotnetCounterSampler? _dotnet;

    private InstanceProcess(ChildProcess child, LogWriter outLog, LogWriter errLog, InstanceHealth health, long launchedAt, TimeProvider time,
        NodeIpcChannel? channel = null)
    {
        Child = child;
        Channel = channel;
        OutLog = outLog;
        ErrLog = errLog;
        Health = health;
        LaunchedAt = launchedAt;
        _time = time;
    }

    public ChildProcess Child { get; }
    public LogWriter OutLog { get; }
    public LogWriter ErrLog { get; }
    public InstanceHealth Health { get; }

    /// <summary>Node's IPC channel with this run (ipc: node); null otherwise, and for a run adopted from the previous daemon.</summary>
    public NodeIpcChannel? Channel { get; }

    /// <summary>The timestamp just before the spawn: the run's uptime counts from here.</summary>
    public long LaunchedAt { get; }

    /// <summary>
    /// Spawns <paramref name="spec"/> for <paramref name="owner"/> with <paramref name="env"/> and starts
    /// draining its output into its log files. Throws <see cref="FailedStartException"/>: a process that
    /// runs but cannot be watched (its pipes could not join the epoll set: out of fds or memory) is killed
    /// with its group first, never left behind untracked.
    /// </summary>
    public static async Task<InstanceProcess> StartAsync(Instance owner, AppSpec spec, IReadOnlyDictionary<string, string> env, IHealthSink sink,
        TimeProvider time, ILogger logger, long launchedAt)
    {
        App app = owner.App;
        ChildProcess child;
        try
        {
            Isolation.InstanceCgroup? cgroup = PrepareCgroup(owner, spec);
            child = ChildProcess.Start(new SpawnRequest(spec.Command, spec.Args, spec.Cwd, env)
            {
                ListenFds = app.ListenHandles,
                Channel = spec.NodeIpc ? SpawnChannel.Node : null,
                Isolation = spec.Isolation.ForSpawn(),
                Cgroup = cgroup,
                // Without a cgroup, what marks this instance's processes should one escape its group.
                EscapeMarkers = cgroup is null ? [$"TEND_APP={owner.Name}", $"TEND_INSTANCE={owner.Number}"] : [],
            }, time);
        }
        catch (Exception ex) when (ex is SpawnException or IOException or OutOfMemoryException or UnauthorizedAccessException)
        {
            throw new FailedStartException(ex.Message, ex);
        }

        LogWriter? outLog = null, errLog = null;
        try
        {
            outLog = Writer(owner, LogStream.Out, owner.OutLogPath, spec, time, logger);
            errLog = Writer(owner, LogStream.Err, owner.ErrLogPath, spec, time, logger);
            if (app.EchoOutput != OutputEcho.Off) { Echo(app.EchoOutput, owner.Label, outLog, Console.Out); Echo(app.EchoOutput, owner.Label, errLog, Console.Error); }
            outLog.Start(child.StandardOutput!);
            errLog.Start(child.StandardError!);
        }
        catch (Exception ex) when (ex is IOException or OutOfMemoryException or ThreadStartException or UnauthorizedAccessException)
        {
            await child.DisposeAsync().ConfigureAwait(false);
            if (outLog is not null) await outLog.DisposeAsync().ConfigureAwait(false);
            if (errLog is not null) await errLog.DisposeAsync().ConfigureAwait(false);
            throw new FailedStartException("could not watch the new process, so it was stopped: " + ex.Message, ex);
        }
        var health = new InstanceHealth(spec, owner.Label, new ProbeContext(spec.Cwd, env) { Time = time, Isolation = spec.Isolation.ForSpawn() }, time, logger, sink, owner.Metrics);
        NodeIpcChannel? channel = child.Channel is { } handle ? new NodeIpcChannel(handle, health.OnAppMessage) : null;
        channel?.Start();
        return new InstanceProcess(child, outLog, errLog, health, launchedAt, time, channel);
    }

    /// <summary>
    /// A run carried over from the previous daemon (docs/upgrade.md): the process it ran, adopted by
    /// pid and start time, and the read ends of its pipes, which the writers go on reading from where
    /// the old daemon stopped. Nothing is spawned. Throws <see cref="FailedStartException"/> when the
    /// pipes cannot be watched; the caller then stops the process.
    /// </summary>
    public static InstanceProcess Adopt(Instance owner, AppSpec spec, IReadOnlyDictionary<string, string> env, CarriedRun carried, IHealthSink sink,
        TimeProvider time, ILogger logger, long launchedAt)
    {
        LogWriter? outLog = null, errLog = null;
        try
        {
            Io.Descriptors.MakeNonBlocking(carried.Out);
            Io.Descriptors.MakeNonBlocking(carried.Err);
            outLog = Writer(owner, LogStream.Out, owner.OutLogPath, spec, time, logger);
            errLog = Writer(owner, LogStream.Err, owner.ErrLogPath, spec, time, logger);
            if (owner.App.EchoOutput != OutputEcho.Off) { Echo(owner.App.EchoOutput, owner.Label, outLog, Console.Out); Echo(owner.App.EchoOutput, owner.Label, errLog, Console.Error); }
            outLog.Start(carried.Out);
            errLog.Start(carried.Err);
        }
        catch (Exception ex) when (ex is IOException or OutOfMemoryException or UnauthorizedAccessException)
        {
            outLog?.Dispose();
            errLog?.Dispose();
            throw new FailedStartException("could not read the adopted process's pipes: " + ex.Message, ex);
        }
        var health = new InstanceHealth(spec, owner.Label, new ProbeContext(spec.Cwd, env) { Time = time, Isolation = spec.Isolation.ForSpawn() }, time, logger, sink, owner.Metrics);
        return new InstanceProcess(carried.Child, outLog, errLog, health, launchedAt, time) { AlreadyReady = carried.Ready };
    }

    /// <summary>An adopted run that was ready under the previous daemon: its health starts ready.</summary>
    private bool AlreadyReady { get; init; }

    /// <summary>
    /// The instance's cgroup, created and given the app's resources: limits, or null when the daemon
    /// has no cgroup tree. Resources that cannot be enforced here fail the start (as systemd fails a
    /// unit whose User= cannot be applied) rather than running the app without its limits.
    /// </summary>
    private static Isolation.InstanceCgroup? PrepareCgroup(Instance owner, AppSpec spec)
    {
        Isolation.CgroupTree? tree = owner.App.Cgroups;
        Isolation.CgroupResources resources = spec.Isolation.Resources;
        if (tree is null || tree.Mode == Isolation.CgroupMode.None)
        {
            if (resources.IsEmpty) return null;
            throw new IOException("resources: cannot be enforced: " + (tree is null ? "this host runs apps without cgroups" : string.Join("; ", tree.Notes)) + " (see tend doctor)");
        }
        foreach (string controller in resources.Controllers())
        {
            if (!tree.CanLimit(controller))
                throw new IOException($"resources: the {controller} controller is not available to Tend here: " + string.Join("; ", tree.Notes) + " (see tend doctor)");
        }
        // Named by the instance's id too: during a reload the old and the new instance #0 run side by
        // side, and killing the old one's cgroup must not touch the new one.
        Isolation.InstanceCgroup cgroup = owner.Cgroup ??= tree.Instance(LeafName(owner.Name, owner.Number, owner.Id))!;
        try
        {
            cgroup.Prepare(resources);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new IOException($"cgroup {cgroup.Directory}: {e.Message}", e);
        }
        return cgroup;
    }

    /// <summary>An instance's cgroup: app.number.id (ids are never reused by a daemon, nor across its restarts).</summary>
    internal static string LeafName(string app, int number, int id) => $"{app}.{number}.{id}";

    private static LogWriter Writer(Instance owner, LogStream stream, string path, AppSpec spec, TimeProvider time, ILogger logger) =>
        new(owner.Name, owner.Number, stream, path, spec.Logs, time,
            dropped => EngineLog.LogLinesDropped(logger, owner.Name, owner.Number, stream == LogStream.Out ? "out" : "err", dropped, "writing to the log file failed"))
        {
            Counters = stream == LogStream.Out ? owner.Metrics.Out : owner.Metrics.Err,
            Forward = owner.App.LogFeeds?.For(owner.Name, owner.Number, stream),
        };

    /// <summary>Once published as online: probes start reading, and a .NET process's counters are sampled.</summary>
    public void StartWatching(Runtime.DotnetCounterWatcher? dotnet, string label, Action<Runtime.DotnetCounters> onCounters)
    {
        Health.Start(OutLog, ErrLog, AlreadyReady);
        _dotnet = dotnet?.Watch(label, Child.Pid, Child.StartTime, onCounters);
    }

    /// <summary>
    /// The stop ladder of this run. With stop_message and a channel the app still holds, the message
    /// goes first (PM2's shutdown_with_message); the stop signal follows if the app has not exited
    /// within half of kill_timeout, and SIGKILL at kill_timeout, counted from the message. Otherwise the
    /// stop signal, then SIGKILL after kill_timeout.
    /// </summary>
    public async Task<ExitStatus> StopAsync(AppSpec spec)
    {
        TimeSpan killTimeout = spec.KillTimeout;
        if (spec.StopMessage is { } message && Channel is { } channel && killTimeout != TimeSpan.Zero && !Child.Exited.IsCompleted &&
            await channel.SendAsync(message).ConfigureAwait(false))
        {
            TimeSpan grace = killTimeout == Timeout.InfiniteTimeSpan ? Timeout.InfiniteTimeSpan : killTimeout / 2;
            try
            {
                return await Child.Exited.WaitAsync(grace, _time).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                // still running: the signal, with what is left of kill_timeout
            }
            if (killTimeout != Timeout.InfiniteTimeSpan) killTimeout -= grace;
        }
        return await Child.StopAsync(spec.StopSignal, killTimeout).ConfigureAwait(false);
    }

    /// <summary>How long the process has been up.</summary>
    public TimeSpan Uptime => _time.GetElapsedTime(LaunchedAt);

    /// <summary>
    /// After the exit: the health checks and the counter session stop, the pipes are read to their
    /// end (bounded: a grandchild that left the group may hold them open), then the process and the
    /// writers are released. Returns the lines the writers could not write, for the instance's total.
    /// </summary>
    public async Task<long> CloseAsync()
    {
        await Health.DisposeAsync().ConfigureAwait(false);
        if (Channel is not null) await Channel.DisposeAsync().ConfigureAwait(false);
        // After the exit: the session's stream has ended with the process, so this is quick.
        if (_dotnet is not null) await _dotnet.DisposeAsync().ConfigureAwait(false);
        await Task.WhenAny(Task.WhenAll(OutLog.Completion, ErrLog.Completion), Task.Delay(TimeSpan.FromSeconds(2))).ConfigureAwait(false);
        await Child.DisposeAsync().ConfigureAwait(false);
        await OutLog.DisposeAsync().ConfigureAwait(false);
        await ErrLog.DisposeAsync().ConfigureAwait(false);
        return OutLog.DroppedLines + ErrLog.DroppedLines;
    }

    /// <summary>`tend run`: copy an instance's lines to our own stdout/stderr, where a container runtime collects them.</summary>
    private static void Echo(OutputEcho format, string label, LogWriter writer, TextWriter target)
    {
        string prefix = label + " | ";
        var lines = writer.SubscribeAsync();
        _ = Task.Run(async () =>
        {
            await foreach (LogLine line in lines.ConfigureAwait(false))
            {
                string text = format == OutputEcho.JsonLines ? OutputEchoJson.Line(line) : prefix + line.Text;
                lock (target) target.WriteLine(text);
            }
            lock (target) target.Flush();
        });
    }
}
