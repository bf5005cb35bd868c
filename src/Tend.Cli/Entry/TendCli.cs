using System.CommandLine;
using System.CommandLine.Invocation;
using Tend.Cli.Commands;

namespace Tend.Cli.Entry;

/// <summary>The command tree, and the one place that maps System.CommandLine's outcomes to tend's exit codes.</summary>
internal static class TendCli
{
    /// <summary>Exit code for bad usage, arguments or config.</summary>
    public const int UsageError = 2;

    private const string Description = "Tend: a process manager for Linux. Keeps your apps running, restarts them, and keeps their logs.";

    /// <summary>
    /// Every command by the words that invoke it (its name and aliases), in help order. Building a
    /// command builds its options, arguments and help texts; all of them together cost about 0.6 ms of
    /// every call (NativeAOT, this machine), so a call that names its command builds only that one.
    /// </summary>
    private static readonly (string[] Words, Func<CliContext, Command> Create)[] s_commands =
    [
        (["start"], c => new StartCommand(c)),
        (["startOrReload", "startOrGracefulReload"], StartCommand.OrReload),
        (["startOrRestart"], StartCommand.OrRestart),
        (["stop"], c => new StopCommand(c)),
        (["restart"], c => new RestartCommand(c)),
        (["delete", "del"], c => new DeleteCommand(c)),
        (["reset"], c => new ResetCommand(c)),
        (["flush"], c => new FlushCommand(c)),
        (["reloadLogs", "reload-logs"], c => new ReloadLogsCommand(c)),
        (["signal", "sendSignal"], c => new SignalCommand(c)),
        (["reload"], c => new ReloadCommand(c)),
        (["deploy"], c => new DeployCommand(c)),
        (["scale"], c => new ScaleCommand(c)),
        (["list", "ls", "status", "ps"], c => new ListCommand(c)),
        (["jlist"], c => new JlistCommand(c)),
        (["prettylist"], c => new PrettylistCommand(c)),
        (["env"], c => new EnvCommand(c)),
        (["check", "validate"], c => new CheckCommand(c)),
        (["init", "ecosystem"], c => new InitCommand(c)),
        (["pid"], c => new PidCommand(c)),
        (["tree"], c => new TreeCommand(c)),
        (["describe", "show", "info", "desc"], c => new DescribeCommand(c)),
        (["logs"], c => new LogsCommand(c)),
        (["events"], c => new EventsCommand(c)),
        (["monit"], c => new MonitCommand(c)),
        (["save", "dump"], c => new SaveCommand(c)),
        (["resurrect"], c => new ResurrectCommand(c)),
        (["kill"], c => new KillCommand(c)),
        (["ping"], c => new PingCommand(c)),
        (["doctor"], c => new DoctorCommand(c)),
        (["version"], c => new VersionCommand(c)),
        (["daemon"], c => new DaemonCommand(c)),
        (["startup"], c => new StartupCommand(c)),
        (["audit"], c => new AuditCommand(c)),
        (["alerts"], c => new AlertsCommand(c)),
        (["jobs"], c => new JobsCommand(c)),
        (["run-job"], c => new RunJobCommand(c)),
        (["export"], c => new ExportCommand(c)),
        (["diag"], c => new DiagCommand(c)),
        (["import"], c => new ImportCommand(c)),
        (["update"], c => new UpgradeCommand(c, "update")),
        (["unstartup"], c => new UnstartupCommand(c)),
        (["run"], c => new RunCommand(c)),
    ];

    /// <summary>The whole tree: what help, the root's options and a mistyped command need.</summary>
    public static RootCommand CreateRootCommand(CliContext context)
    {
        var root = new RootCommand(Description);
        foreach (var (_, create) in s_commands) root.Subcommands.Add(create(context));
        return root;
    }

    /// <summary>
    /// The tree a call needs: when its first word invokes a command, the root with that command alone
    /// (it parses, helps and fails exactly as in the whole tree); otherwise the whole tree.
    /// </summary>
    public static RootCommand CreateRootCommand(CliContext context, IReadOnlyList<string> args)
    {
        if (args.Count > 0)
        {
            foreach (var (words, create) in s_commands)
            {
                if (Array.IndexOf(words, args[0]) < 0) continue;
                return new RootCommand(Description) { create(context) };
            }
        }
        return CreateRootCommand(context);
    }

    public static async Task<int> InvokeAsync(
        IReadOnlyList<string> args, CliContext context, InvocationConfiguration invocation, CancellationToken ct = default)
    {
        ParseResult parseResult = CreateRootCommand(context, args).Parse(args);

        if (parseResult.Action is ParseErrorAction parseError)
        {
            // System.CommandLine exits 1 on parse errors; tend keeps 1 for "unknown target or daemon
            // error" and uses 2 for bad usage. Help only for a bare `tend`, where it is what was meant.
            parseError.ShowHelp = args.Count == 0;
            // A mistyped command gets "did you mean"; within a command the parser's guesses are its
            // options (`tend stop a b`: "did you mean -h"), which help nobody.
            parseError.ShowTypoCorrections = parseResult.CommandResult.Command is RootCommand;
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
