using System.CommandLine;
using System.Text.Json;
using Tend.Api;
using Tend.Cli.Rendering;

namespace Tend.Cli.Commands;

/// <summary>`tend list`: every instance as a table, or the raw rows with --json (the path benchmarked against `pm2 jlist`).</summary>
internal sealed class ListCommand : TendCommand
{
    private readonly Option<bool> _json = new("--json") { Description = "Print the instances as one JSON array" };
    private readonly Argument<string?> _target = new("target")
    {
        Description = "Only the instances of an app, app#instance or numeric id (all when left out)",
        Arity = ArgumentArity.ZeroOrOne,
    };

    public ListCommand(CliContext context) : base("list", "List every app instance with its status, pid, restarts, cpu and memory.", context)
    {
        Aliases.Add("ls");
        Aliases.Add("status");
        Aliases.Add("ps"); // PM2's
        Add(_target);
        Add(_json);
    }

    protected override Task<int> ExecuteAsync(ParseResult parseResult, CancellationToken ct) =>
        parseResult.GetValue(_target) is string target and not "all"
            ? ListOneAsync(Context, target, parseResult.GetValue(_json), Out(parseResult), ct)
            : ListAsync(Context, parseResult.GetValue(_json), Out(parseResult), ct);

    /// <summary>
    /// `tend status web` (as systemctl status names a unit): the rows of one app, instance or id. With
    /// --json the daemon's objects are passed on as they are, only fewer. Naming nothing is exit 1.
    /// </summary>
    private static async Task<int> ListOneAsync(CliContext context, string target, bool json, TextWriter output, CancellationToken ct)
    {
        using DaemonClient client = context.CreateClient(autoStart: true);
        string body = await client.GetRawAsync(ApiRoutes.List, ct).ConfigureAwait(false);
        InstanceInfo[] rows = InstanceRows.Read(System.Text.Encoding.UTF8.GetBytes(body));
        bool[] named = [.. rows.Select(r => TargetWords.Names(r, target))];
        if (!named.Contains(true)) throw TargetWords.NothingNamed(rows, target);
        if (!json)
        {
            output.Write(ListTable.Render([.. rows.Where((_, i) => named[i])], context.Color));
            return 0;
        }
        using JsonDocument document = JsonDocument.Parse(body);
        output.WriteLine(JsonText.Build(writer =>
        {
            writer.WriteStartArray();
            int i = 0;
            foreach (JsonElement row in document.RootElement.EnumerateArray())
            {
                if (named[i++]) row.WriteTo(writer);
            }
            writer.WriteEndArray();
        }));
        return 0;
    }

    /// <summary>
    /// `tend list` without System.CommandLine (see Program.Main); same output, same errors. The error
    /// writer is made only for an error: Console.Error costs a lookup of the terminal's encoding.
    /// </summary>
    internal static async Task<int> RunDirectAsync(CliContext context, bool json, TextWriter output, Func<TextWriter> error)
    {
        try
        {
            return await ListAsync(context, json, output, CancellationToken.None).ConfigureAwait(false);
        }
        catch (CliException ex)
        {
            WriteError(error(), ex);
            return ex.ExitCode;
        }
    }

    internal static async Task<int> ListAsync(CliContext context, bool json, TextWriter output, CancellationToken ct)
    {
        using DaemonClient client = context.CreateClient(autoStart: true);
        if (json)
        {
            // The daemon already speaks the contract (same source-generated context): pass its
            // bytes through rather than parse and re-serialize them. This is the hot path.
            string body = await client.GetRawAsync(ApiRoutes.List, ct).ConfigureAwait(false);
            output.WriteLine(body);
            return 0;
        }
        await WriteTableAsync(client, output, context.Color, ct).ConfigureAwait(false);
        return 0;
    }

    /// <summary>Fetches the list and writes the table; start, stop and restart end with it too, like PM2.</summary>
    internal static async Task WriteTableAsync(DaemonClient client, TextWriter output, bool color, CancellationToken ct)
    {
        InstanceInfo[] rows = await client.GetAsync(ApiRoutes.List, json => InstanceRows.Read(json.Span), ct).ConfigureAwait(false);
        output.Write(ListTable.Render(rows, color));
    }
}

/// <summary>`tend jlist`: PM2's name for the list as JSON (`tend list --json`), so scripts written for pm2 jlist keep their habit.</summary>
internal sealed class JlistCommand(CliContext context) : TendCommand("jlist", "The list as one JSON array, as tend list --json (PM2's jlist).", context)
{
    protected override Task<int> ExecuteAsync(ParseResult parseResult, CancellationToken ct) =>
        ListCommand.ListAsync(Context, json: true, Out(parseResult), ct);
}

/// <summary>`tend prettylist`: PM2's name for the list as indented JSON, for reading rather than for scripts.</summary>
internal sealed class PrettylistCommand(CliContext context) : TendCommand("prettylist", "The list as indented JSON (PM2's prettylist).", context)
{
    protected override async Task<int> ExecuteAsync(ParseResult parseResult, CancellationToken ct)
    {
        using DaemonClient client = Context.CreateClient(autoStart: true);
        string body = await client.GetRawAsync(ApiRoutes.List, ct).ConfigureAwait(false);
        Out(parseResult).WriteLine(Indent(body));
        return 0;
    }

    /// <summary>The same JSON, indented: copied token by token (no contract types, so nothing to keep in step).</summary>
    internal static string Indent(string json)
    {
        using JsonDocument document = JsonDocument.Parse(json);
        return JsonText.Build(document.WriteTo, indented: true);
    }
}
