using System.CommandLine;
using Tend.Api;
using Tend.Cli.Rendering;

namespace Tend.Cli.Commands;

/// <summary>`tend tree`: the supervision tree, each supervisor with its strategy, status and restarts.</summary>
internal sealed class TreeCommand : TendCommand
{
    private readonly Option<bool> _json = new("--json") { Description = "Print the tree as JSON" };

    public TreeCommand(CliContext context) : base("tree", "Show the supervision tree: supervisors with strategy, status and restarts, and their apps.", context)
    {
        Add(_json);
    }

    protected override async Task<int> ExecuteAsync(ParseResult parseResult, CancellationToken ct)
    {
        using DaemonClient client = Context.CreateClient(autoStart: true);
        TextWriter output = Out(parseResult);
        if (parseResult.GetValue(_json))
        {
            output.WriteLine(await client.GetRawAsync(ApiRoutes.Tree, ct).ConfigureAwait(false));
            return 0;
        }
        TreeNodeInfo root = await client.GetAsync(ApiRoutes.Tree, TendJsonContext.Default.TreeNodeInfo, ct).ConfigureAwait(false);
        output.Write(TreeText.Render(root, Context.Color));
        return 0;
    }
}
