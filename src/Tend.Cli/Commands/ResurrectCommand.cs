using System.CommandLine;
using Tend.Api;

namespace Tend.Cli.Commands;

/// <summary>`tend resurrect`: start the apps recorded by the last `tend save`.</summary>
internal sealed class ResurrectCommand : TendCommand
{
    public ResurrectCommand(CliContext context) : base("resurrect", "Start the apps saved by `tend save`.", context)
    {
    }

    protected override async Task<int> ExecuteAsync(ParseResult parseResult, CancellationToken ct)
    {
        using DaemonClient client = Context.CreateClient(autoStart: true);
        ActionResult result = await client.PostAsync(ApiRoutes.Resurrect, TendJsonContext.Default.ActionResult, ct).ConfigureAwait(false);
        TextWriter output = Out(parseResult);
        output.WriteLine(result.Message);
        await ListCommand.WriteTableAsync(client, output, Context.Color, ct).ConfigureAwait(false);
        return 0;
    }
}
