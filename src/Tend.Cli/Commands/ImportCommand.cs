using System.CommandLine;
using System.CommandLine.Parsing;
using Tend.Api;

namespace Tend.Cli.Commands;

/// <summary>`tend import pm2|procfile|supervisord|process-compose|systemd [file] [-o tend.yaml]`: another manager's file as a tend.yaml, with a report (docs/import.md).</summary>
internal sealed class ImportCommand : TendCommand
{
    private readonly Argument<string> _kind = new("kind") { Description = "pm2, procfile, supervisord, process-compose or systemd" };
    private readonly Argument<string[]> _files = new("file")
    {
        Description = "The file (default: ecosystem.config.js, Procfile, supervisord.conf or process-compose.yaml here; ~/.pm2/dump.pm2 with --from-dump); systemd: NAME.service units, each with its NAME.service.d/*.conf drop-ins, their dependencies on each other kept",
        Arity = ArgumentArity.ZeroOrMore,
    };
    private readonly Option<string?> _output = new("--output", "-o") { Description = "Write the tend.yaml here (default: print it)", HelpName = "file" };
    private readonly Option<bool> _force = new("--force") { Description = "With -o: replace an existing file" };
    private readonly Option<string?> _env = new("--env") { Description = "PM2: merge env_NAME over env", HelpName = "NAME" };
    private readonly Option<Dictionary<string, int>?> _formation = new("--formation")
    {
        Description = "Procfile: instances per process type, e.g. web=2,worker=1 (all=N for every type)",
        HelpName = "type=N,…",
        CustomParser = ParseFormation,
    };
    private readonly Option<bool> _fromDump = new("--from-dump") { Description = "PM2: import what PM2 last saved (pm2 save) instead of an ecosystem file" };

    public ImportCommand(CliContext context) : base("import", "Turn a PM2 ecosystem file, a Procfile, a supervisord.conf, a process-compose.yaml or a systemd unit into a tend.yaml.", context)
    {
        Add(_kind);
        Add(_files);
        Add(_output);
        Add(_force);
        Add(_env);
        Add(_formation);
        Add(_fromDump);
        _kind.AcceptOnlyFromAmong([.. EngineCommands.ImportKinds]);
    }

    protected override Task<int> ExecuteAsync(ParseResult parseResult, CancellationToken ct)
    {
        string kind = parseResult.GetValue(_kind)!;
        bool fromDump = parseResult.GetValue(_fromDump);
        if (fromDump && kind != "pm2") throw new CliException("--from-dump is for pm2", 2);
        if (parseResult.GetValue(_env) is not null && kind != "pm2") throw new CliException("--env is for pm2 (env_NAME sections)", 2);
        if (parseResult.GetValue(_formation) is not null && kind != "procfile") throw new CliException("--formation is for procfile", 2);
        string[] files = [.. (parseResult.GetValue(_files) ?? []).Select(f => Path.GetFullPath(f, Context.CurrentDirectory))];
        if (files.Length > 1 && kind != "systemd") throw new CliException($"{kind} takes one file (several: systemd units, joined into one tend.yaml)", 2);
        string? file = files.Length > 0 ? files[0] : null;
        string? output = parseResult.GetValue(_output) is string o ? Path.GetFullPath(o, Context.CurrentDirectory) : null;
        // The importers are the engine's: the daemon's binary reads the file and writes the tend.yaml (EngineHandoff).
        return Task.FromResult(EngineHandoff.Replace(EngineCommands.Import,
            new ImportInvocation(kind, file, output, parseResult.GetValue(_force), parseResult.GetValue(_env), parseResult.GetValue(_formation), fromDump,
                files.Length > 1 ? files[1..] : null),
            EngineCommandJsonContext.Default.ImportInvocation));
    }

    private static Dictionary<string, int>? ParseFormation(ArgumentResult result)
    {
        var formation = new Dictionary<string, int>(StringComparer.Ordinal);
        string text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
        foreach (string part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            int eq = part.IndexOf('=');
            if (eq <= 0 || !int.TryParse(part[(eq + 1)..], out int n) || n < 0)
            {
                result.AddError($"--formation takes type=N pairs such as web=2,worker=1, not '{part}'");
                return null;
            }
            formation[part[..eq]] = n;
        }
        return formation;
    }
}
