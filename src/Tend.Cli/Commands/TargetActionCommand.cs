using System.CommandLine;
using Tend.Api;

namespace Tend.Cli.Commands;

/// <summary>
/// The shape shared by stop, restart, delete, reset and flush: one target or several, a POST of
/// <see cref="TargetRequest"/> for each, the daemon's messages, and (where PM2 does) the list table after.
/// </summary>
internal abstract class TargetActionCommand : TendCommand
{
    private readonly string _route;
    private readonly bool _listAfter;
    private readonly Argument<string[]> _targets;

    /// <param name="defaultTarget">What no target means (PM2's reloadLogs takes none: all); null when one is required.</param>
    protected TargetActionCommand(string name, string description, string route, bool listAfter, CliContext context, string? defaultTarget = null)
        : base(name, description, context)
    {
        _route = route;
        _listAfter = listAfter;
        _targets = TargetWords.Several(defaultTarget);
        Add(_targets);
    }

    protected override async Task<int> ExecuteAsync(ParseResult parseResult, CancellationToken ct)
    {
        using DaemonClient client = Context.CreateClient(autoStart: true);
        string[] targets = await TargetWords.CheckedAsync(client, parseResult.GetRequiredValue(_targets), ct).ConfigureAwait(false);
        TextWriter output = Out(parseResult);
        int exitCode = await TargetWords.ForEachAsync(targets, Error(parseResult), async target =>
        {
            ActionResult result = await PostAsync(client, _route, target, parseResult, ct).ConfigureAwait(false);
            output.WriteLine(result.Message);
        }).ConfigureAwait(false);
        if (_listAfter) await ListCommand.WriteTableAsync(client, output, Context.Color, ct).ConfigureAwait(false);
        return exitCode;
    }

    /// <summary>The request: a <see cref="TargetRequest"/>, unless the command has more to say.</summary>
    protected virtual Task<ActionResult> PostAsync(DaemonClient client, string route, string target, ParseResult parseResult, CancellationToken ct) =>
        client.PostAsync(route, new TargetRequest(target), TendJsonContext.Default.TargetRequest, TendJsonContext.Default.ActionResult, ct);
}
