using System.CommandLine;
using System.Text;
using Tend.Cli.Commands;

namespace Tend.Cli.Entry;

internal static class Program
{
    // Kept lean on purpose: `tend list` is benchmarked against `pm2 jlist` and against a bare
    // .NET hello world, so nothing here may load more than the command tree and, for daemon
    // commands, a socket (see DaemonClient).
    private static Task<int> Main(string[] args)
    {
        // The runtime's Console.Out writes through a 256-byte buffer: `tend list --json` with 100
        // instances made 90 write(2) calls for its 23 KB. 16 K characters make that two, still
        // flushed at the end of every write as before (follow modes, prompts, ordering with stderr).
        // Not larger: the writer's char and byte buffers are allocated fresh in every process, and
        // from 64 K characters on (330 KB) they cost more page faults than the writes they save.
        Console.SetOut(new StreamWriter(Console.OpenStandardOutput(), new UTF8Encoding(false), 16 * 1024) { AutoFlush = true });
        CliContext context = CliContext.FromEnvironment();
        // The hottest read, `tend list [--json]` (scripts and monitoring poll it), skips building
        // the command tree: that is about a fifth of its start-up. Any other spelling, including
        // --help, goes through System.CommandLine as usual.
        if (args is ["list" or "ls" or "status" or "ps"] or ["list" or "ls" or "status" or "ps", "--json"] or ["jlist"])
            return ListCommand.RunDirectAsync(context, json: args.Length == 2 || args[0] == "jlist", Console.Out, static () => Console.Error);
        return TendCli.InvokeAsync(args, context, new InvocationConfiguration());
    }
}
