using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Tend.Api;
using Tend.Cli.Rendering;

namespace Tend.Cli.Commands;

/// <summary>`tend describe web` (or web#1, or an id): the app's resolved spec and each instance's story.</summary>
internal sealed class DescribeCommand : TendCommand
{
    private readonly Argument<string> _target = new("target") { Description = "An app name, app#instance, or a numeric id" };
    private readonly Option<bool> _json = new("--json") { Description = "Print the app as JSON" };

    public DescribeCommand(CliContext context) : base("describe", "Show everything about one app: its spec, instances, and recent exits.", context)
    {
        Aliases.Add("show");
        Aliases.Add("info"); // PM2's other names for it
        Aliases.Add("desc");
        Add(_target);
        Add(_json);
    }

    protected override async Task<int> ExecuteAsync(ParseResult parseResult, CancellationToken ct)
    {
        string target = parseResult.GetRequiredValue(_target);
        using DaemonClient client = Context.CreateClient(autoStart: true);

        (string app, int? instance) = await ResolveAsync(client, target, ct).ConfigureAwait(false);
        AppInfo info = await client.GetAsync(
            ApiRoutes.App + Uri.EscapeDataString(app), TendJsonContext.Default.AppInfo, ct).ConfigureAwait(false);
        if (instance is { } wanted)
        {
            InstanceDetail[] only = info.Instances.Where(i => i.Instance == wanted).ToArray();
            if (only.Length == 0) throw new CliException($"{app} has no instance #{wanted}", 1);
            info = info with { Instances = only };
        }

        TextWriter output = Out(parseResult);
        if (parseResult.GetValue(_json))
            output.WriteLine(JsonSerializer.Serialize(info, TendJsonContext.Default.AppInfo));
        else
            output.Write(DescribeText.Render(info, Context.GetEnvironment(), Context.TimeZone, Context.Color));
        return 0;
    }

    /// <summary>"web" → (web, null); "web#1" → (web, 1); "3" → the app and instance of id 3, from the list.</summary>
    internal static async Task<(string App, int? Instance)> ResolveAsync(DaemonClient client, string target, CancellationToken ct)
    {
        if (TryParseInstance(target, out string app, out int instance)) return (app, instance);
        if (!int.TryParse(target, NumberStyles.None, CultureInfo.InvariantCulture, out int id)) return (target, null);

        InstanceInfo[] rows = await client.GetAsync(ApiRoutes.List, TendJsonContext.Default.InstanceInfoArray, ct).ConfigureAwait(false);
        InstanceInfo? row = rows.FirstOrDefault(r => r.Id == id);
        // An app may be named "3"; the daemon decides then.
        return row is null ? (target, null) : (row.Name, row.Instance);
    }

    internal static bool TryParseInstance(string target, out string app, out int instance)
    {
        int hash = target.LastIndexOf('#');
        if (hash > 0 && int.TryParse(target.AsSpan(hash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out instance))
        {
            app = target[..hash];
            return true;
        }
        app = target;
        instance = -1;
        return false;
    }
}
