using System.CommandLine;
using System.Text.Json;
using Tend.Api;
using Tend.Cli.Rendering;

namespace Tend.Cli.Commands;

/// <summary>`tend list`: every instance as a table, or the raw rows with --json (the path benchmarked against `pm2 jlist`).</summary>
internal sealed class ListCommand : TendCommand
{
    private readonly Option<bool> _json = new("--json") { Description = "Print the instances as one JSON array" };

    public ListCommand(CliContext context) : base("list", "List every app instance with its status, pid, restarts, cpu and memory.", context)
    {
        Aliases.Add("ls");
        Aliases.Add("status");
        Add(_json);
    }

    protected override async Task<int> ExecuteAsync(ParseResult parseResult, CancellationToken ct)
    {
        using DaemonClient client = Context.CreateClient(autoStart: true);
        TextWriter output = Out(parseResult);
        if (parseResult.GetValue(_json))
        {
            // The daemon already speaks the contract (same source-generated context): pass its
            // bytes through rather than parse and re-serialize them. This is the hot path.
            string json = await client.GetRawAsync(ApiRoutes.List, ct).ConfigureAwait(false);
            output.WriteLine(json);
            return 0;
        }
        await WriteTableAsync(client, output, Context.Color, ct).ConfigureAwait(false);
        return 0;
    }

    /// <summary>Fetches the list and writes the table; start, stop and restart end with it too, like PM2.</summary>
    internal static async Task WriteTableAsync(DaemonClient client, TextWriter output, bool color, CancellationToken ct)
    {
        InstanceInfo[] rows = await client.GetAsync(ApiRoutes.List, TendJsonContext.Default.InstanceInfoArray, ct).ConfigureAwait(false);
        output.Write(ListTable.Render(rows, color));
    }
}
