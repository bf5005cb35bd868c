using System.CommandLine;
using System.CommandLine.Invocation;
using Tend.Cli.Commands;

namespace Tend.Cli.Entry;

/// <summary>The command tree, and the one place that maps System.CommandLine's outcomes to tend's exit codes.</summary>
internal static class TendCli
{
    /// <summary>Exit code for bad usage, arguments or config.</summary>
    public const int UsageError = 2;

    public static RootCommand CreateRootCommand(CliContext context)
    {
        var root = new RootCommand("Tend: a process manager for Linux. Keeps your apps running, restarts them, and keeps their logs.")
        {
            new StartCommand(context),
            new StopCommand(context),
            new RestartCommand(context),
            new DeleteCommand(context),
            new ResetCommand(context),
            new FlushCommand(context),
            new SignalCommand(context),
            new ReloadCommand(context),
            new DeployCommand(context),
            new ScaleCommand(context),
            new ListCommand(context),
            new TreeCommand(context),
            new DescribeCommand(context),
            new LogsCommand(context),
            new EventsCommand(context),
            new MonitCommand(context),
            new SaveCommand(context),
            new ResurrectCommand(context),
            new KillCommand(context),
            new PingCommand(context),
            new DoctorCommand(context),
            new VersionCommand(context),
            new DaemonCommand(context),
            new StartupCommand(context),
            new AuditCommand(context),
            new AlertsCommand(context),
            new JobsCommand(context),
            new RunJobCommand(context),
            new ExportCommand(context),
            new DiagCommand(context),
            new ImportCommand(context),
            new UpgradeCommand(context, "update"),
            new UnstartupCommand(context),
            new RunCommand(context),
        };
        return root;
    }

    public static async Task<int> InvokeAsync(
        IReadOnlyList<string> args, CliContext context, InvocationConfiguration invocation, CancellationToken ct = default)
    {
        ParseResult parseResult = CreateRootCommand(context).Parse(args);

        if (parseResult.Action is ParseErrorAction parseError)
        {
            // System.CommandLine exits 1 on parse errors; tend keeps 1 for "unknown target or daemon
            // error" and uses 2 for bad usage. Help only for a bare `tend`, where it is what was meant.
            parseError.ShowHelp = args.Count == 0;
            await parseResult.InvokeAsync(invocation, ct).ConfigureAwait(false);
            if (!parseError.ShowHelp)
            {
                Command command = parseResult.CommandResult.Command;
                invocation.Error.WriteLine(command is RootCommand ? "Run 'tend --help' for usage." : $"Run 'tend {command.Name} --help' for usage.");
            }
            return UsageError;
        }

        return await parseResult.InvokeAsync(invocation, ct).ConfigureAwait(false);
    }
}
