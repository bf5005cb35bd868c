using System.CommandLine;
using System.Diagnostics;
using Tend.Api;

namespace Tend.Cli.Commands;

/// <summary>
/// `tend kill`: stop every app, then the daemon. Never starts a daemon just to kill it. Returns once
/// the socket stops answering, so `tend kill && tend start …` starts against a fresh daemon.
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
                return 0; // gone (not running, or it hung up on us on its way out)
            }
            await Task.Delay(100, ct).ConfigureAwait(false);
        }
        throw new CliException($"the daemon still answers {s_exitTimeout.TotalSeconds:0}s after kill", 1,
            [$"see {Path.Combine(Context.Home, "daemon.log")}"]);
    }
}
