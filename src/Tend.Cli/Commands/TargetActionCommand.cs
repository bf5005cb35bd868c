using System.CommandLine;
using Tend.Api;

namespace Tend.Cli.Commands;

/// <summary>
/// The shape shared by stop, restart, delete, reset and flush: one target, a POST of
/// <see cref="TargetRequest"/>, the daemon's message, and (where PM2 does) the list table after.
/// </summary>
internal abstract class TargetActionCommand : TendCommand
{
    private readonly string _route;
    private readonly bool _listAfter;
    private readonly Argument<string> _target = new("target")
    {
        Description = "all, an app name, app#instance, or a numeric id",
    };

    /// <param name="defaultTarget">What no target means (PM2's reloadLogs takes none: all); null when one is required.</param>
    protected TargetActionCommand(string name, string description, string route, bool listAfter, CliContext context, string? defaultTarget = null)
        : base(name, description, context)
    {
        _route = route;
        _listAfter = listAfter;
        if (defaultTarget is not null)
        {
            _target.Arity = ArgumentArity.ZeroOrOne;
            _target.DefaultValueFactory = _ => defaultTarget;
        }
        Add(_target);
    }

    protected override async Task<int> ExecuteAsync(ParseResult parseResult, CancellationToken ct)
    {
        string target = parseResult.GetRequiredValue(_target);
        using DaemonClient client = Context.CreateClient(autoStart: true);
        ActionResult result = await PostAsync(client, _route, target, parseResult, ct).ConfigureAwait(false);
        TextWriter output = Out(parseResult);
        output.WriteLine(result.Message);
        if (_listAfter) await ListCommand.WriteTableAsync(client, output, Context.Color, ct).ConfigureAwait(false);
        return 0;
    }

    /// <summary>The request: a <see cref="TargetRequest"/>, unless the command has more to say.</summary>
    protected virtual Task<ActionResult> PostAsync(DaemonClient client, string route, string target, ParseResult parseResult, CancellationToken ct) =>
        client.PostAsync(route, new TargetRequest(target), TendJsonContext.Default.TargetRequest, TendJsonContext.Default.ActionResult, ct);
}
