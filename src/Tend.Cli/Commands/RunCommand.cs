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

    private readonly Option<string?> _logFormat = new("--log-format")
    {
        Description = "How the apps' output reaches stdout/stderr: text (app#N | line) or json (one object per line); default $TEND_LOG_FORMAT, else text",
        HelpName = "text|json",
    };

    public RunCommand(CliContext context) : base("run", "Run a tend.yaml in the foreground, without a daemon (for containers).", context)
    {
        Add(_config);
        Add(_only);
        Add(_logFormat);
    }

    protected override Task<int> ExecuteAsync(ParseResult parseResult, CancellationToken ct)
    {
        string path = Path.GetFullPath(parseResult.GetRequiredValue(_config), Context.CurrentDirectory);
        if (!File.Exists(path)) throw new CliException($"config file not found: {path}", 2);
        string? format = parseResult.GetValue(_logFormat);
        string source = "--log-format";
        if (format is null && Context.GetEnvironment().TryGetValue("TEND_LOG_FORMAT", out string? fromEnv) && fromEnv.Length > 0)
            (format, source) = (fromEnv, "TEND_LOG_FORMAT");
        if (format is not (null or "text" or "json")) throw new CliException($"{source} must be text or json, not '{format}'", 2);
        // The engine runs in the daemon's binary, in this very process (EngineHandoff): pid, terminal and signals stay.
        return Task.FromResult(EngineHandoff.Replace(EngineCommands.Run, new RunInvocation(path, parseResult.GetValue(_only) ?? [], format),
            EngineCommandJsonContext.Default.RunInvocation));
    }
}
