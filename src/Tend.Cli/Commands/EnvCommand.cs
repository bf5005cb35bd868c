using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Tend.Api;

namespace Tend.Cli.Commands;

/// <summary>
/// `tend env [target]` (PM2's env): the environment of each instance the target names, NAME=value
/// sorted by name, under a `#` line that says whose it is and where it was read from: a running
/// instance's process as it started, or, with none running, what its next start gets. Secrets are
/// masked as in describe (PM2 prints them): nothing leaves the daemon unmasked (docs/config.md).
/// </summary>
internal sealed class EnvCommand : TendCommand
{
    private readonly Argument<string> _target = TargetWords.AllByDefault();
    private readonly Option<bool> _json = new("--json") { Description = "Print the environments as one JSON array" };

    public EnvCommand(CliContext context) : base("env", "Print the environment of an app's instances: what each process started with.", context)
    {
        Add(_target);
        Add(_json);
    }

    protected override async Task<int> ExecuteAsync(ParseResult parseResult, CancellationToken ct)
    {
        string target = parseResult.GetRequiredValue(_target);
        using DaemonClient client = Context.CreateClient(autoStart: true);
        InstanceEnvironmentInfo[] views = await client.GetAsync(
            ApiRoutes.Env + "?target=" + Uri.EscapeDataString(target), TendJsonContext.Default.InstanceEnvironmentInfoArray, ct).ConfigureAwait(false);
        TextWriter output = Out(parseResult);
        if (parseResult.GetValue(_json))
        {
            output.WriteLine(JsonSerializer.Serialize(views, TendJsonContext.Default.InstanceEnvironmentInfoArray));
            return 0;
        }
        output.Write(Render(views));
        return 0;
    }

    internal static string Render(IReadOnlyList<InstanceEnvironmentInfo> views)
    {
        var text = new StringBuilder();
        foreach (InstanceEnvironmentInfo view in views)
        {
            if (text.Length > 0) text.Append('\n');
            text.Append(CultureInfo.InvariantCulture, $"# {view.Name}#{view.Instance} (id {view.Id}): ");
            text.Append(view.Pid is int pid ? $"pid {pid.ToString(CultureInfo.InvariantCulture)}, as it started" : "not running; what its next start gets");
            text.Append('\n');
            foreach (var (name, value) in view.Env.OrderBy(kv => kv.Key, StringComparer.Ordinal))
                text.Append(name).Append('=').Append(value).Append('\n');
        }
        return text.ToString();
    }
}
