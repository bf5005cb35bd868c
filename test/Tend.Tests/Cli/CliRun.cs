using System.CommandLine;
using Tend.Cli;

namespace Tend.Tests.Cli;

internal sealed record CliOutcome(int ExitCode, string Out, string Err);

/// <summary>Runs the real command tree in-process against string writers, bounded by a timeout.</summary>
internal static class CliRun
{
    public static async Task<CliOutcome> RunAsync(CliContext context, params string[] args) =>
        await RunAsync(context, CancellationToken.None, args);

    public static async Task<CliOutcome> RunAsync(CliContext context, CancellationToken ct, params string[] args)
    {
        var output = new StringWriter { NewLine = "\n" };
        var error = new StringWriter { NewLine = "\n" };
        var invocation = new InvocationConfiguration { Output = output, Error = error, ProcessTerminationTimeout = null };
        int exit = await TendCli.InvokeAsync(args, context, invocation, ct).WaitAsync(TimeSpan.FromSeconds(10));
        return new CliOutcome(exit, output.ToString(), error.ToString());
    }
}
