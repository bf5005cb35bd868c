using System.CommandLine;
using Tend.Cli.Monit;

namespace Tend.Cli.Commands;

/// <summary>
/// `tend monit`: the full-screen dashboard (see <see cref="MonitSession"/>). This class holds no
/// Spectre.Console type, so building the command tree for any other command never loads it.
/// </summary>
internal sealed class MonitCommand : TendCommand
{
    public MonitCommand(CliContext context)
        : base("monit", "A live dashboard: every instance with cpu and memory history, the selected app's logs, and keys to restart, stop and reload.", context)
    {
    }

    protected override Task<int> ExecuteAsync(ParseResult parseResult, CancellationToken ct)
    {
        // Checked before anything else, so a script that runs it by mistake neither starts a
        // daemon nor fills a log file with escape codes.
        if (Console.IsOutputRedirected || Console.IsInputRedirected)
        {
            string which = Console.IsOutputRedirected ? "stdout" : "stdin";
            throw new CliException($"tend monit needs a terminal, and {which} is not one", 2,
                ["For scripts and pipes use `tend list --json`, `tend logs` or `tend events --json`."]);
        }
        return MonitSession.RunAsync(Context, TimeProvider.System, ct);
    }
}
