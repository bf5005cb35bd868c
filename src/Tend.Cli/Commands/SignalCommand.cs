using System.CommandLine;
using Tend.Api;
using Tend.Processes;

namespace Tend.Cli.Commands;

/// <summary>
/// `tend signal SIGUSR2 web`: send a signal to the instances of a target (PM2's sendSignal). To
/// each instance's main process by default, as systemd's `kill` does (a master such as gunicorn
/// decides what its workers get); `--group` sends it to every process of the instance's group.
/// </summary>
internal sealed class SignalCommand : TendCommand
{
    private readonly Argument<string> _signal = new("signal") { Description = "SIGUSR2, USR2 or 12" };
    private readonly Argument<string> _target = new("target") { Description = "all, an app name, app#instance, or a numeric id" };

    private readonly Option<bool> _main = new("--main") { Description = "To each instance's main process only (the default)" };
    private readonly Option<bool> _group = new("--group") { Description = "To every process of each instance's process group" };

    public SignalCommand(CliContext context) : base("signal", "Send a signal to the main process of an app's instances (--group: to all their processes).", context)
    {
        Aliases.Add("sendSignal"); // PM2's
        Add(_signal);
        Add(_target);
        Add(_main);
        Add(_group);
    }

    protected override async Task<int> ExecuteAsync(ParseResult parseResult, CancellationToken ct)
    {
        string text = parseResult.GetRequiredValue(_signal);
        if (!Signals.TryParse(text, out int number))
            throw new CliException($"unknown signal '{text}'", 2, ["known: " + string.Join(", ", Signals.Names)]);

        bool group = parseResult.GetValue(_group);
        if (group && parseResult.GetValue(_main)) throw new CliException("--main and --group exclude each other", 2);

        using DaemonClient client = Context.CreateClient(autoStart: true);
        ActionResult result = await client.PostAsync(
            ApiRoutes.Signal, new SignalRequest(parseResult.GetRequiredValue(_target), Signals.Name(number), group ? "group" : "main"),
            TendJsonContext.Default.SignalRequest, TendJsonContext.Default.ActionResult, ct).ConfigureAwait(false);
        Out(parseResult).WriteLine(result.Message);
        return 0;
    }
}
