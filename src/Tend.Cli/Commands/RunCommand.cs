using System.CommandLine;
using Tend.Api;

namespace Tend.Cli.Commands;

/// <summary>`tend run tend.yaml`: supervise in the foreground without a daemon (containers, PID 1).</summary>
internal sealed class RunCommand : TendCommand
{
    private readonly Argument<string> _config = new("config") { Description = "The tend.yaml to run" };
    private readonly Option<string[]> _only = new("--only")
    {
        Description = "Run only these apps, or a supervisor's whole subtree (comma-separated or repeated)",
        HelpName = "name,…",
    };

    public RunCommand(CliContext context) : base("run", "Run a tend.yaml in the foreground, without a daemon (for containers).", context)
    {
        Add(_config);
        Add(_only);
    }

    protected override Task<int> ExecuteAsync(ParseResult parseResult, CancellationToken ct)
    {
        string path = Path.GetFullPath(parseResult.GetRequiredValue(_config), Context.CurrentDirectory);
        if (!File.Exists(path)) throw new CliException($"config file not found: {path}", 2);
        // The engine runs in the daemon's binary, in this very process (EngineHandoff): pid, terminal and signals stay.
        return Task.FromResult(EngineHandoff.Replace(EngineCommands.Run, new RunInvocation(path, parseResult.GetValue(_only) ?? []),
            EngineCommandJsonContext.Default.RunInvocation));
    }
}
