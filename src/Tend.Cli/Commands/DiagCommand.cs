using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Text.Json;
using Tend.Api;

namespace Tend.Cli.Commands;

/// <summary>`tend diag TARGET KIND`: collect a dump, heap snapshot, trace or core from one instance (docs/alerts.md#diagnostics).</summary>
internal sealed class DiagCommand : TendCommand
{
    private static readonly string[] s_kinds = ["dump", "gcdump", "trace", "core", "heapsnapshot"];

    private readonly Argument<string> _target = new("target") { Description = "The instance: app (when it has one instance), app#N or an id" };
    private readonly Argument<string> _kind = new("kind")
    {
        Description = "dump, gcdump or trace (.NET apps), heapsnapshot (Node apps with node_diagnostics: true), core (any process, needs gdb's gcore)",
    };
    private readonly Option<TimeSpan?> _duration = new("--duration")
    {
        Description = "How long a trace or heap snapshot records (default 10s)", HelpName = "duration",
        CustomParser = ParseDuration,
    };
    private readonly Option<string?> _type = new("--type") { Description = "For dump: heap (default), full or mini", HelpName = "type" };
    private readonly Option<bool> _json = new("--json") { Description = "Print the artifact as JSON" };

    public DiagCommand(CliContext context) : base("diag", "Collect diagnostics from an instance: a dump, a heap snapshot, a trace or a core file.", context)
    {
        Add(_target);
        Add(_kind);
        Add(_duration);
        Add(_type);
        Add(_json);
        _kind.Validators.Add(r =>
        {
            string kind = r.GetValueOrDefault<string>() ?? "";
            if (!s_kinds.Contains(kind)) r.AddError($"unknown kind '{kind}': one of {string.Join(", ", s_kinds)}");
        });
        _type.AcceptOnlyFromAmong("heap", "full", "mini");
        Subcommands.Add(new DiagListCommand(context));
        Subcommands.Add(new DiagRemoveCommand(context));
    }

    protected override async Task<int> ExecuteAsync(ParseResult parseResult, CancellationToken ct)
    {
        using DaemonClient client = Context.CreateClient(autoStart: false);
        TimeSpan? duration = parseResult.GetValue(_duration);
        var request = new DiagRequest(parseResult.GetValue(_target)!, parseResult.GetValue(_kind)!,
            duration is { } d ? (long)d.TotalMilliseconds : null, parseResult.GetValue(_type));
        DiagArtifactInfo a = await client.PostAsync(ApiRoutes.Diag, request, TendJsonContext.Default.DiagRequest, TendJsonContext.Default.DiagArtifactInfo, ct).ConfigureAwait(false);
        TextWriter output = Out(parseResult);
        if (parseResult.GetValue(_json)) output.WriteLine(JsonSerializer.Serialize(a, TendJsonContext.Default.DiagArtifactInfo));
        else output.WriteLine($"{a.Kind} of {a.App}#{a.Instance} (pid {a.Pid}): {a.Path} ({Config.Units.FormatSize(a.Bytes)}, {(a.FinishedAt - a.StartedAt).TotalSeconds.ToString("0.#", CultureInfo.InvariantCulture)}s)");
        return 0;
    }

    private static TimeSpan? ParseDuration(ArgumentResult result)
    {
        string text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
        if (Config.Units.TryParseDuration(text, out TimeSpan value) && value >= TimeSpan.FromSeconds(1) && value <= TimeSpan.FromMinutes(10)) return value;
        result.AddError($"--duration must be a duration from 1s to 10m, such as 10s or 1m, not '{text}'");
        return null;
    }
}

/// <summary>`tend diag ls`: the artifacts in $TEND_HOME/diag, and the quota.</summary>
internal sealed class DiagListCommand : TendCommand
{
    private readonly Option<bool> _json = new("--json") { Description = "Print the list as JSON" };

    public DiagListCommand(CliContext context) : base("ls", "List collected diagnostics.", context) => Add(_json);

    protected override async Task<int> ExecuteAsync(ParseResult parseResult, CancellationToken ct)
    {
        using DaemonClient client = Context.CreateClient(autoStart: false);
        DiagListInfo list = await client.GetAsync(ApiRoutes.Diag, TendJsonContext.Default.DiagListInfo, ct).ConfigureAwait(false);
        TextWriter output = Out(parseResult);
        if (parseResult.GetValue(_json))
        {
            output.WriteLine(JsonSerializer.Serialize(list, TendJsonContext.Default.DiagListInfo));
            return 0;
        }
        if (list.Artifacts.Count == 0) output.WriteLine($"no diagnostics collected yet ({list.Dir})");
        foreach (DiagArtifactInfo a in list.Artifacts)
        {
            string at = TimeZoneInfo.ConvertTime(a.StartedAt, Context.TimeZone).ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
            output.WriteLine($"{at}  {a.Id}  {a.App}#{a.Instance} pid {a.Pid}  {Config.Units.FormatSize(a.Bytes)}  {a.Trigger}");
        }
        output.WriteLine($"{Config.Units.FormatSize(list.UsedBytes)} of {Config.Units.FormatSize(list.QuotaBytes)} used in {list.Dir}");
        return 0;
    }
}

/// <summary>`tend diag rm ID`.</summary>
internal sealed class DiagRemoveCommand : TendCommand
{
    private readonly Argument<string> _id = new("id") { Description = "The artifact's id (tend diag ls)" };

    public DiagRemoveCommand(CliContext context) : base("rm", "Delete a collected diagnostic.", context) => Add(_id);

    protected override async Task<int> ExecuteAsync(ParseResult parseResult, CancellationToken ct)
    {
        using DaemonClient client = Context.CreateClient(autoStart: false);
        ActionResult result = await client.DeleteAsync(ApiRoutes.Diag + "/" + Uri.EscapeDataString(parseResult.GetValue(_id)!), TendJsonContext.Default.ActionResult, ct).ConfigureAwait(false);
        Out(parseResult).WriteLine(result.Message);
        return 0;
    }
}
