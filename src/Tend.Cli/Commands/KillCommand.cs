using System.CommandLine;
using System.Diagnostics;
using Tend.Api;

namespace Tend.Cli.Commands;

/// <summary>
/// `tend kill`: stop every app, then the daemon. Never starts a daemon just to kill it. Returns once
/// the socket stops answering and the daemon's process is gone (its lock on TEND_HOME goes with it),
/// so `tend kill && tend start …` starts a fresh daemon rather than one that finds the old one
/// still exiting.
/// </summary>
internal sealed class KillCommand : TendCommand
{
    private static readonly TimeSpan s_exitTimeout = TimeSpan.FromSeconds(10);

    public KillCommand(CliContext context) : base("kill", "Stop every app, then the daemon.", context)
    {
    }

    protected override async Task<int> ExecuteAsync(ParseResult parseResult, CancellationToken ct)
    {
        TextWriter output = Out(parseResult);
        using DaemonClient client = Context.CreateClient(autoStart: false);
        (int Pid, ulong Start)? daemon = DaemonProcess();
        ActionResult result;
        try
        {
            result = await client.PostAsync(ApiRoutes.Kill, TendJsonContext.Default.ActionResult, ct).ConfigureAwait(false);
        }
        catch (DaemonNotRunningException)
        {
            output.WriteLine("tend: no daemon running");
            return 0;
        }
        output.WriteLine(result.Message);

        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < s_exitTimeout)
        {
            try
            {
                await client.GetAsync(ApiRoutes.Ping, TendJsonContext.Default.PingInfo, ct).ConfigureAwait(false);
            }
            catch (CliException)
            {
                break; // not answering any more (not running, or it hung up on us on its way out)
            }
            await Task.Delay(100, ct).ConfigureAwait(false);
        }
        // After the socket, the process still shuts its runtime down; what is left is short.
        while (clock.Elapsed < s_exitTimeout)
        {
            if (daemon is not { } d || !Tend.Processes.ProcStat.IsAlive(d.Pid, d.Start)) return 0;
            await Task.Delay(10, ct).ConfigureAwait(false);
        }
        throw new CliException($"the daemon is still running {s_exitTimeout.TotalSeconds:0}s after kill", 1,
            [$"see {Path.Combine(Context.Home, "daemon.log")}"]);
    }

    /// <summary>The daemon's pid (from daemon.pid, which it writes once it holds its lock) and start time, when it runs.</summary>
    private (int Pid, ulong Start)? DaemonProcess()
    {
        try
        {
            if (!int.TryParse(File.ReadAllText(Path.Combine(Context.Home, "daemon.pid")).Trim(), out int pid)) return null;
            return Tend.Processes.ProcStat.ReadStartTime(pid) is ulong start ? (pid, start) : null;
        }
        catch (IOException)
        {
            return null;
        }
    }
}
