using System.CommandLine;
using System.Globalization;
using Tend.Api;
using Tend.Cli.Rendering;

namespace Tend.Cli.Commands;

/// <summary>
/// `tend pid [target]` (PM2's pid): the main process id of each running instance of the target, one
/// per line, for scripts (`kill -USR1 $(tend pid web)`). An instance with no process prints nothing;
/// a target that names nothing is an error (exit 1), where PM2 prints an empty line.
/// </summary>
internal sealed class PidCommand : TendCommand
{
    private readonly Argument<string> _target = TargetWords.AllByDefault();
    private readonly Option<bool> _json = new("--json")
    {
        Description = "A JSON array of every named instance: name, instance, id and pid (null when it has no process)",
    };

    public PidCommand(CliContext context) : base("pid", "Print the pid of each running instance of an app (or of all), one per line.", context)
    {
        Add(_target);
        Add(_json);
    }

    protected override async Task<int> ExecuteAsync(ParseResult parseResult, CancellationToken ct)
    {
        string target = parseResult.GetRequiredValue(_target);
        using DaemonClient client = Context.CreateClient(autoStart: true);
        InstanceInfo[] rows = await client.GetAsync(ApiRoutes.List, json => InstanceRows.Read(json.Span), ct).ConfigureAwait(false);
        InstanceInfo[] named = [.. rows.Where(r => TargetWords.Names(r, target))];
        if (named.Length == 0 && target != "all") throw TargetWords.NothingNamed(rows, target);
        TextWriter output = Out(parseResult);
        if (parseResult.GetValue(_json))
        {
            output.WriteLine(JsonText.Build(json =>
            {
                json.WriteStartArray();
                foreach (InstanceInfo row in named)
                {
                    json.WriteStartObject();
                    json.WriteString("name", row.Name);
                    json.WriteNumber("instance", row.Instance);
                    json.WriteNumber("id", row.Id);
                    if (row.Pid is int pid) json.WriteNumber("pid", pid); else json.WriteNull("pid");
                    json.WriteEndObject();
                }
                json.WriteEndArray();
            }));
            return 0;
        }
        foreach (InstanceInfo row in named)
        {
            if (row.Pid is int pid) output.WriteLine(pid.ToString(CultureInfo.InvariantCulture));
        }
        return 0;
    }
}
