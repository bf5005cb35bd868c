using System.Collections;
using System.Runtime.InteropServices;
using Tend.Api;
using Tend.Config;
using Tend.Diagnostics;
using Tend.Processes;
using Tend.Supervision;

namespace Tend.Daemon.Commands;

/// <summary>
/// `tend run tend.yaml`: the engine in the foreground, no daemon, no socket, no state file, for
/// containers. Safe as PID 1 (see <see cref="RunAsInitAsync"/>): every zombie re-parented to it is
/// reaped, SIGTERM/SIGINT/SIGQUIT become a graceful stop of everything in reverse start order,
/// and it exits when all is stopped. It also exits once every app has stopped on its own
/// and none will restart. The exit status is <see cref="RunVerdict"/>'s: the first failure of an
/// app that ended on its own (its exit code, 128 + signal, or 1), else 0. Apps' output goes to their
/// log files under TEND_HOME and is echoed to our stdout/stderr prefixed with app#instance, which
/// is where a container runtime looks for it. Events go to stderr as JSON lines.
/// </summary>
/// <remarks>
/// The CLI parses `tend run` and becomes the daemon's binary for it (execve, <see cref="EngineCommandHost"/>),
/// so this runs with the pid, terminal and signals `tend run` was started with. We handle SIGINT,
/// SIGTERM and SIGQUIT here.
/// </remarks>
internal static class ForegroundRunner
{
    /// <summary>Set in the engine process that <see cref="RunAsInitAsync"/> starts.</summary>
    private const string InitChildVariable = "TEND_RUN_UNDER_INIT";

    public static async Task<int> RunAsync(string configPath, IReadOnlyList<string> only, Supervision.OutputEcho echo, CancellationToken ct)
    {
        if (Environment.ProcessId == 1 && Environment.GetEnvironmentVariable(InitChildVariable) != "1")
            return await RunAsInitAsync(ct).ConfigureAwait(false);
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (DictionaryEntry e in Environment.GetEnvironmentVariables()) env[(string)e.Key] = (string?)e.Value ?? "";

        string home = ApiRoutes.ResolveHome();
        // Before the config: resources: it cannot enforce are config errors, with their lines.
        var cgroups = Tend.Isolation.CgroupTree.FromEnvironment(home, Environment.GetEnvironmentVariable);
        TendConfig config;
        try
        {
            config = ConfigLoader.Load(Path.GetFullPath(configPath), env, cgroups).Only(only);
        }
        catch (ConfigException ex)
        {
            cgroups.RemoveIfEmpty();
            Console.Error.WriteLine("error: invalid config");
            foreach (ConfigError error in ex.Errors) Console.Error.WriteLine("  " + error);
            return 2;
        }

        try { Security.HomeTrust.Ensure(home); }
        catch (Security.UntrustedHomeException ex)
        {
            cgroups.RemoveIfEmpty();
            Console.Error.WriteLine("error: " + ex.Message);
            return 2;
        }

        // Orphans of the apps come to us and are reaped here, as in the daemon (see its Program.cs);
        // as the engine under our own PID 1 they would go to PID 1, which reaps them too.
        using IDisposable? orphanReaper = ZombieReaper.SetChildSubreaper() ? ZombieReaper.Start(_ => false) : null;

        var stopRequested = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stopRequested.TrySetResult(); });
        using var intr = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stopRequested.TrySetResult(); });
        using var quit = PosixSignalRegistration.Create(PosixSignal.SIGQUIT, c => { c.Cancel = true; stopRequested.TrySetResult(); });
        using var cancel = ct.Register(() => stopRequested.TrySetResult());

        using var loggers = new JsonLinesLoggerFactory(Console.OpenStandardError());
        var supervisor = new Supervisor(home, TimeProvider.System, loggers, persist: false) { EchoOutput = echo, Cgroups = cgroups };
        await using (supervisor.ConfigureAwait(false))
        {
            // Subscribed before anything starts, so no end is missed: a one-shot job can be over
            // before StartAsync returns.
            var verdict = new RunVerdict();
            var ended = new SemaphoreSlim(0);
            supervisor.InstanceEnded += end =>
            {
                verdict.OnEnded(end);
                // The tree restarts a taken-over instance itself: nothing to check for that one.
                if (end.Kind != InstanceEndKind.TakenOver) ended.Release();
            };

            using RunHealth? health = RunHealth.Address(Environment.GetEnvironmentVariable, Environment.GetEnvironmentVariable(InitChildVariable) == "1") is { } address
                ? RunHealth.Start(address, supervisor) : null;

            if (config.Tree.Supervisors.Count > 0) await supervisor.StartTreeAsync(config, CancellationToken.None).ConfigureAwait(false);
            else await supervisor.StartAsync([.. config.Apps], config.SourcePath, CancellationToken.None).ConfigureAwait(false);

            while (!stopRequested.Task.IsCompleted)
            {
                if (await supervisor.NothingRunsAsync().ConfigureAwait(false)) break;
                await Task.WhenAny(stopRequested.Task, ended.WaitAsync(CancellationToken.None)).ConfigureAwait(false);
            }
            await supervisor.ShutdownAsync().ConfigureAwait(false);

            if (supervisor.TreeFailed) verdict.OnFailure();
            if (verdict.Decisive is { } why)
                Console.Error.WriteLine($"tend run: exit {verdict.ExitCode}: {why.Label} {DescribeEnd(why)}");
            return verdict.ExitCode;
        }
    }

    private static string DescribeEnd(InstanceEnd end) => end.Kind switch
    {
        InstanceEndKind.GaveUp => $"errored ({end.Reason})",
        InstanceEndKind.Blocked => $"was blocked ({end.Reason})",
        _ => $"ended: {end.LastExit?.ToString() ?? end.Reason}",
    };

    /// <summary>
    /// PID 1: a minimal init in front of the engine. As PID 1 the .NET runtime reaps every child
    /// itself on SIGCHLD (wait4(-1)), which would take our instances' exit statuses before their
    /// pidfd watchers see them — an on-failure app would never know it failed. So PID 1 only
    /// reaps and forwards signals, and the engine runs in a child process (pid 2, like under tini),
    /// where its own children's statuses stay its own. The engine child is started through
    /// System.Diagnostics.Process on purpose: that is the one way the runtime's reap-everything
    /// mode still hands us a child's exit code. Orphans of the apps are re-parented to PID 1 and
    /// reaped here; the exit code is the engine's.
    /// </summary>
    private static async Task<int> RunAsInitAsync(CancellationToken ct)
    {
        string[] commandLine = Environment.GetCommandLineArgs();
        string self = Environment.ProcessPath ?? throw new InvalidOperationException("cannot find our own executable");
        var start = new System.Diagnostics.ProcessStartInfo(self) { UseShellExecute = false };
        // Run through the dotnet host (`dotnet tend-daemon.dll --command run …`): argument 0 is the .dll to run again.
        bool viaHost = Path.GetFileNameWithoutExtension(self) == "dotnet";
        foreach (string arg in commandLine.Skip(viaHost ? 0 : 1)) start.ArgumentList.Add(arg);
        start.Environment[InitChildVariable] = "1";

        using var engine = System.Diagnostics.Process.Start(start)
            ?? throw new InvalidOperationException("could not start the engine process");
        int enginePid = engine.Id;
        using IDisposable reaper = ZombieReaper.Start(pid => pid == enginePid);

        // Forward the stop signals as they are: the engine turns them into a graceful stop.
        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; _ = NativeSignal(enginePid, Signals.SIGTERM); });
        using var intr = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; _ = NativeSignal(enginePid, Signals.SIGINT); });
        using var quit = PosixSignalRegistration.Create(PosixSignal.SIGQUIT, c => { c.Cancel = true; _ = NativeSignal(enginePid, Signals.SIGQUIT); });
        using var cancel = ct.Register(() => _ = NativeSignal(enginePid, Signals.SIGTERM));

        await engine.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
        return engine.ExitCode;
    }

    private static bool NativeSignal(int pid, int signal) => Signals.SendByPid(pid, signal);
}
