using System.CommandLine;

namespace Tend.Cli.Commands;

/// <summary>`tend run tend.yaml`: supervise in the foreground without a daemon (containers, PID 1).</summary>
internal sealed class RunCommand : TendCommand
{
    private readonly Argument<string> _config = new("config") { Description = "The tend.yaml to run" };

    public RunCommand(CliContext context) : base("run", "Run a tend.yaml in the foreground, without a daemon (for containers).", context)
    {
        Add(_config);
    }

    protected override Task<int> ExecuteAsync(ParseResult parseResult, CancellationToken ct)
    {
        string path = Path.GetFullPath(parseResult.GetRequiredValue(_config), Context.CurrentDirectory);
        if (!File.Exists(path)) throw new CliException($"config file not found: {path}", 2);
        return ForegroundRunner.RunAsync(path, ct);
    }
}
