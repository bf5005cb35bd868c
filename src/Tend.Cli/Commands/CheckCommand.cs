using System.CommandLine;
using Tend.Api;

namespace Tend.Cli.Commands;

/// <summary>
/// `tend check [FILE…]` (alias validate): load each config as `tend start` would, start nothing, and
/// say what it declares or where it is wrong (exit 2). The default is the tend.yaml `tend start` takes.
/// Another manager's file is not a tend config: the engine says which it is, and `tend import` converts it.
/// </summary>
internal sealed class CheckCommand : TendCommand
{
    private readonly Argument<string[]> _files = new("config")
    {
        Description = "The tend.yaml files to check (default: ./tend.yaml or ./tend.yml)",
        Arity = ArgumentArity.ZeroOrMore,
    };

    private readonly Option<bool> _json = new("--json")
    {
        Description = "One JSON object per file: ok, the apps, jobs and supervisors, or the errors with file, line, column and field",
    };

    public CheckCommand(CliContext context) : base("check", "Check configs without starting anything: what each declares, or its errors with their lines.", context)
    {
        Aliases.Add("validate");
        Add(_files);
        Add(_json);
    }

    protected override Task<int> ExecuteAsync(ParseResult parseResult, CancellationToken ct)
    {
        string[] given = parseResult.GetValue(_files) ?? [];
        string[] paths = given.Length > 0
            ? [.. given.Select(f => Path.GetFullPath(f, Context.CurrentDirectory))]
            : [StartCommand.DefaultConfig(Context.CurrentDirectory)
                ?? throw new CliException("nothing to check: no tend.yaml here", 2, ["tend check path/to/tend.yaml", "tend init writes one"])];
        foreach (string path in paths)
        {
            if (!File.Exists(path)) throw new CliException($"config file not found: {path}", 2);
        }
        // The config loader is the engine's: the daemon's binary checks (EngineHandoff). No daemon is asked or started.
        return Task.FromResult(EngineHandoff.Replace(EngineCommands.Check, new CheckInvocation(paths, parseResult.GetValue(_json)), EngineCommandJsonContext.Default.CheckInvocation));
    }
}
