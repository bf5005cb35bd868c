using System.CommandLine;
using Tend.Api;

namespace Tend.Cli.Commands;

/// <summary>`tend save`: remember the running apps so `tend resurrect` (or a boot) brings them back.</summary>
internal sealed class SaveCommand : TendCommand
{
    private readonly Option<bool> _force = new("--force") { Description = "Write the list even when it is empty and the saved one is not." };

    public SaveCommand(CliContext context) : base("save", "Save the running apps, to be brought back by `tend resurrect`.", context)
    {
        Aliases.Add("dump"); // PM2's
        Options.Add(_force);
    }

    protected override async Task<int> ExecuteAsync(ParseResult parseResult, CancellationToken ct)
    {
        using DaemonClient client = Context.CreateClient(autoStart: true);
        ActionResult result = await client.PostAsync(parseResult.GetValue(_force) ? ApiRoutes.Save + "?force=true" : ApiRoutes.Save, TendJsonContext.Default.ActionResult, ct).ConfigureAwait(false);
        Out(parseResult).WriteLine(result.Message);
        return 0;
    }
}
