using System.CommandLine;
using System.CommandLine.Parsing;
using Tend.Api;

namespace Tend.Cli.Commands;

/// <summary>
/// `tend deploy web --strategy blue-green [--warmup 10s]` or `--strategy canary --canary 1 --wait 30s`.
/// The app's config is read again; on any failure the set that was serving keeps serving.
/// </summary>
internal sealed class DeployCommand : TendCommand
{
    private readonly Argument<string> _app = new("app") { Description = "The app to deploy (it needs listen:)" };
    private readonly Option<string> _strategy = new("--strategy", "-s")
    {
        Description = "blue-green: a whole new set, then switch; canary: a few first, watched, then the rest",
        Required = true,
    };
    private readonly Option<int?> _canary = new("--canary") { Description = "Canary: how many instances go first (default 1)", HelpName = "N" };
    private readonly Option<TimeSpan?> _wait = new("--wait")
    {
        Description = "Canary: how long to watch them (default 30s)", HelpName = "duration", CustomParser = r => ParseDuration(r, "--wait"),
    };
    private readonly Option<TimeSpan?> _warmup = new("--warmup")
    {
        Description = "Blue-green: how long the new set must stay ready before the switch", HelpName = "duration",
        CustomParser = r => ParseDuration(r, "--warmup"),
    };

    public DeployCommand(CliContext context) : base("deploy", "Deploy an app's new code blue-green or by canary, keeping the old set serving until it is safe.", context)
    {
        Add(_app);
        Add(_strategy);
        Add(_canary);
        Add(_wait);
        Add(_warmup);
    }

    protected override async Task<int> ExecuteAsync(ParseResult parseResult, CancellationToken ct)
    {
        string strategy = parseResult.GetRequiredValue(_strategy);
        if (strategy is not ("blue-green" or "canary")) throw new CliException($"unknown strategy '{strategy}': blue-green or canary", 2);
        int? canary = parseResult.GetValue(_canary);
        TimeSpan? wait = parseResult.GetValue(_wait), warmup = parseResult.GetValue(_warmup);
        if (strategy == "blue-green" && (canary is not null || wait is not null)) throw new CliException("--canary and --wait go with --strategy canary", 2);
        if (strategy == "canary" && warmup is not null) throw new CliException("--warmup goes with --strategy blue-green", 2);
        if (canary is < 1) throw new CliException("--canary must be 1 or more", 2);

        var request = new DeployRequest(parseResult.GetRequiredValue(_app), strategy, canary,
            wait is { } w ? (long)w.TotalMilliseconds : null, warmup is { } m ? (long)m.TotalMilliseconds : null, Context.GetEnvironment());
        using DaemonClient client = Context.CreateClient(autoStart: true);
        ActionResult result = await client.PostAsync(ApiRoutes.Deploy, request,
            TendJsonContext.Default.DeployRequest, TendJsonContext.Default.ActionResult, ct).ConfigureAwait(false);
        TextWriter output = Out(parseResult);
        output.WriteLine(result.Message);
        await ListCommand.WriteTableAsync(client, output, Context.Color, ct).ConfigureAwait(false);
        return 0;
    }

    private static TimeSpan? ParseDuration(ArgumentResult result, string option)
    {
        string text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
        if (Config.Units.TryParseDuration(text, out TimeSpan value) && value >= TimeSpan.Zero) return value;
        result.AddError($"{option} must be a duration such as 30s or 2m, not '{text}'");
        return null;
    }
}
