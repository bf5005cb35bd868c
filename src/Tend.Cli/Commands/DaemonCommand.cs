using System.CommandLine;
using Tend.Api;

namespace Tend.Cli.Commands;

/// <summary>`tend daemon`: make sure the daemon runs, and print its pid (alone, for scripts).</summary>
internal sealed class DaemonCommand : TendCommand
{
    public DaemonCommand(CliContext context) : base("daemon", "Start the daemon if it is not running, and print its pid.", context)
    {
    }

    protected override async Task<int> ExecuteAsync(ParseResult parseResult, CancellationToken ct)
    {
        using DaemonClient client = Context.CreateClient(autoStart: true);
        PingInfo ping = await client.GetAsync(ApiRoutes.Ping, TendJsonContext.Default.PingInfo, ct).ConfigureAwait(false);
        Out(parseResult).WriteLine(ping.Pid);
        return 0;
    }
}
