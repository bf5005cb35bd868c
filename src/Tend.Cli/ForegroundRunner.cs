using System.Collections;
using System.Runtime.InteropServices;
using Tend.Api;
using Tend.Config;
using Tend.Diagnostics;
using Tend.Processes;
using Tend.Supervision;

namespace Tend.Cli;

/// <summary>
/// `tend run tend.yaml`: the engine in the foreground, no daemon, no socket, no state file, for
/// containers. Safe as PID 1: it reaps every zombie re-parented to it (its own children are left
/// to their pidfd watchers), turns SIGTERM/SIGINT into a graceful stop of everything in reverse
/// start order, and exits when all is stopped: 0, or 1 when an instance ended errored. It also
/// exits once every app has stopped on its own and none will restart. Apps' output goes to their
/// log files under TEND_HOME and is echoed to our stdout/stderr prefixed with app#instance, which
/// is where a container runtime looks for it. Events go to stderr as JSON lines.
/// </summary>
/// <remarks>
/// <see cref="TendCli"/> switches off System.CommandLine's own SIGINT/SIGTERM handling for `run`
/// (ProcessTerminationTimeout = null), because it would end the process two seconds after the
/// signal, cutting the stop ladder short. We handle the signals here.
/// </remarks>
internal static class ForegroundRunner
{
    public static async Task<int> RunAsync(string configPath, CancellationToken ct)
    {
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (DictionaryEntry e in Environment.GetEnvironmentVariables()) env[(string)e.Key] = (string?)e.Value ?? "";

        TendConfig config;
        try
        {
            config = ConfigLoader.Load(Path.GetFullPath(configPath), env);
        }
        catch (ConfigException ex)
        {
            Console.Error.WriteLine("error: invalid config");
            foreach (ConfigError error in ex.Errors) Console.Error.WriteLine("  " + error);
            return 2;
        }

        string home = ApiRoutes.ResolveHome();
        Directory.CreateDirectory(home);

        Supervisor? supervisor = null;
        bool isInit = Environment.ProcessId == 1;
        using IDisposable? reaper = isInit
            ? ZombieReaper.Start(pid => supervisor?.Apps.Any(a => a.Instances.Any(i => i.LiveProcess?.Pid == pid)) == true)
            : null;

        var stopRequested = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stopRequested.TrySetResult(); });
        using var intr = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stopRequested.TrySetResult(); });
        using var quit = PosixSignalRegistration.Create(PosixSignal.SIGQUIT, c => { c.Cancel = true; stopRequested.TrySetResult(); });
        using var cancel = ct.Register(() => stopRequested.TrySetResult());

        using var loggers = new JsonLinesLoggerFactory(Console.OpenStandardError());
        supervisor = new Supervisor(home, TimeProvider.System, loggers, persist: false) { EchoOutput = true };
        await using (supervisor.ConfigureAwait(false))
        {
            await supervisor.StartAsync([.. config.Apps], config.SourcePath, CancellationToken.None).ConfigureAwait(false);

            Task allDone = WaitUntilNothingRunsAsync(supervisor, stopRequested.Task);
            await Task.WhenAny(stopRequested.Task, allDone).ConfigureAwait(false);
            await supervisor.ShutdownAsync().ConfigureAwait(false);

            return supervisor.List().Any(i => i.Status == "errored") ? 1 : 0;
        }
    }

    private static async Task WaitUntilNothingRunsAsync(Supervisor supervisor, Task stop)
    {
        while (!stop.IsCompleted)
        {
            await Task.WhenAny(stop, Task.Delay(250)).ConfigureAwait(false);
            if (supervisor.List().All(i => i.Status is "stopped" or "errored")) return;
        }
    }
}
