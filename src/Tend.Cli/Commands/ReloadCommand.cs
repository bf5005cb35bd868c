using System.CommandLine;
using Tend.Api;

namespace Tend.Cli.Commands;

/// <summary>
/// `tend reload web [--parallel N] [--update-env]`: replace an app's instances with no downtime.
/// With listen: each replacement starts beside the instance it replaces and takes over once it is
/// ready; without, each instance is restarted in turn, the next only once it is ready again.
/// </summary>
internal sealed class ReloadCommand : TendCommand
{
    private readonly Argument<string[]> _targets = TargetWords.Several(null, "An app name, or all; several may be named");
    private readonly Option<int?> _parallel = new("--parallel", "-p")
    {
        Description = "Instances replaced at once (default: the app's reload_parallelism, 1)",
        HelpName = "N",
    };
    private readonly Option<bool> _updateEnv = new("--update-env")
    {
        Description = "Read the app's config file and this shell's environment again (else the spec is unchanged)",
    };

    public ReloadCommand(CliContext context) : base("reload", "Replace an app's instances one by one, each new one ready before the old one stops.", context)
    {
        Add(_targets);
        Add(_parallel);
        Add(_updateEnv);
    }

    protected override async Task<int> ExecuteAsync(ParseResult parseResult, CancellationToken ct)
    {
        int? parallel = parseResult.GetValue(_parallel);
        if (parallel is < 1) throw new CliException($"--parallel must be 1 or more, not {parallel}", 2);
        bool updateEnv = parseResult.GetValue(_updateEnv);
        using DaemonClient client = Context.CreateClient(autoStart: true);
        string[] targets = await TargetWords.CheckedAsync(client, parseResult.GetRequiredValue(_targets), ct).ConfigureAwait(false);
        IReadOnlyDictionary<string, string>? environment = updateEnv ? Context.GetEnvironment() : null;
        TextWriter output = Out(parseResult);
        int exitCode = await TargetWords.ForEachAsync(targets, Error(parseResult), async target =>
        {
            ActionResult result = await client.PostAsync(ApiRoutes.Reload, new ReloadRequest(target, parallel, updateEnv, environment),
                TendJsonContext.Default.ReloadRequest, TendJsonContext.Default.ActionResult, ct).ConfigureAwait(false);
            output.WriteLine(result.Message);
        }).ConfigureAwait(false);
        await ListCommand.WriteTableAsync(client, output, Context.Color, ct).ConfigureAwait(false);
        return exitCode;
    }
}
