using System.CommandLine;
using Tend.Api;

namespace Tend.Cli.Commands;

/// <summary>`tend save`: remember the running apps so `tend resurrect` (or a boot) brings them back.</summary>
internal sealed class SaveCommand : TendCommand
{
    public SaveCommand(CliContext context) : base("save", "Save the running apps, to be brought back by `tend resurrect`.", context)
    {
    }

    protected override async Task<int> ExecuteAsync(ParseResult parseResult, CancellationToken ct)
    {
        using DaemonClient client = Context.CreateClient(autoStart: true);
        ActionResult result = await client.PostAsync(ApiRoutes.Save, TendJsonContext.Default.ActionResult, ct).ConfigureAwait(false);
        Out(parseResult).WriteLine(result.Message);
        return 0;
    }
}
