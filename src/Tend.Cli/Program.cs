using System.CommandLine;

namespace Tend.Cli;

internal static class Program
{
    // Kept lean on purpose: `tend list` is benchmarked against `pm2 jlist`, so nothing here
    // may load more than the command tree and, for daemon commands, a socket (see DaemonClient).
    private static Task<int> Main(string[] args) =>
        TendCli.InvokeAsync(args, CliContext.FromEnvironment(), new InvocationConfiguration());
}
