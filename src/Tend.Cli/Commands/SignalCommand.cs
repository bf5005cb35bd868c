using System.CommandLine;
using Tend.Api;
using Tend.Processes;

namespace Tend.Cli.Commands;

/// <summary>`tend signal SIGUSR2 web`: send a signal to the instances of a target (PM2's sendSignal).</summary>
internal sealed class SignalCommand : TendCommand
{
    private readonly Argument<string> _signal = new("signal") { Description = "SIGUSR2, USR2 or 12" };
    private readonly Argument<string> _target = new("target") { Description = "all, an app name, app#instance, or a numeric id" };

    public SignalCommand(CliContext context) : base("signal", "Send a signal to an app, an instance, or all.", context)
    {
        Add(_signal);
        Add(_target);
    }

    protected override async Task<int> ExecuteAsync(ParseResult parseResult, CancellationToken ct)
    {
        string text = parseResult.GetRequiredValue(_signal);
        if (!Signals.TryParse(text, out int number))
            throw new CliException($"unknown signal '{text}'", 2, ["known: " + string.Join(", ", Signals.Names)]);

        using DaemonClient client = Context.CreateClient(autoStart: true);
        ActionResult result = await client.PostAsync(
            ApiRoutes.Signal, new SignalRequest(parseResult.GetRequiredValue(_target), Signals.Name(number)),
            TendJsonContext.Default.SignalRequest, TendJsonContext.Default.ActionResult, ct).ConfigureAwait(false);
        Out(parseResult).WriteLine(result.Message);
        return 0;
    }
}
