using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Text.Json;
using Tend.Api;
using Tend.Cli.Rendering;

namespace Tend.Cli.Commands;

/// <summary>
/// `tend logs [target]`: the last N lines, then follows. The daemon answers NDJSON, one
/// <see cref="LogLineDto"/> per line, flushed as lines happen; each is printed as soon as it
/// arrives. Ctrl-C is the normal way out and exits 0.
/// </summary>
internal sealed class LogsCommand : TendCommand
{
    private readonly Argument<string> _target = new("target")
    {
        Description = "all, an app name, app#instance, or a numeric id",
        Arity = ArgumentArity.ZeroOrOne,
        DefaultValueFactory = _ => "all",
    };
    private readonly Option<int> _lines = new("--lines")
    {
        Description = "How many past lines to show first",
        HelpName = "N",
        DefaultValueFactory = _ => 20,
        CustomParser = ParseLines,
    };
    private readonly Option<bool> _noFollow = new("--no-follow", "--nostream") { Description = "Print the past lines and exit (--nostream: PM2's name)" };
    private readonly Option<bool> _err = new("--err") { Description = "Only stderr" };
    private readonly Option<bool> _out = new("--out") { Description = "Only stdout" };
    private readonly Option<bool> _json = new("--json") { Description = "Print each line as a JSON object" };
    private readonly Option<bool> _raw = new("--raw") { Description = "Print each line as the app wrote it, without the app#i and stream prefix (PM2's --raw)" };

    public LogsCommand(CliContext context) : base("logs", "Show and follow the output of an app, an instance, or all.", context)
    {
        Add(_target);
        Add(_lines);
        Add(_noFollow);
        Add(_err);
        Add(_out);
        Add(_json);
        Add(_raw);
    }

    protected override async Task<int> ExecuteAsync(ParseResult parseResult, CancellationToken ct)
    {
        string path = BuildPath(
            parseResult.GetValue(_target) ?? "all",
            parseResult.GetValue(_lines),
            follow: !parseResult.GetValue(_noFollow),
            err: parseResult.GetValue(_err),
            @out: parseResult.GetValue(_out));
        bool json = parseResult.GetValue(_json);
        bool raw = parseResult.GetValue(_raw);
        if (json && raw) throw new CliException("--json and --raw exclude each other", 2);
        TextWriter output = Out(parseResult);

        using DaemonClient client = Context.CreateClient(autoStart: true);
        await NdjsonStream.FollowAsync(client, path, TendJsonContext.Default.LogLineDto, "log line", "log", (_, dto) =>
            output.WriteLine(json
                ? JsonSerializer.Serialize(dto, TendJsonContext.Default.LogLineDto)
                : raw ? LogLineText.RenderRaw(dto, Context.Terminal)
                : LogLineText.Render(dto, Context.Color, Context.Terminal)), ct).ConfigureAwait(false);
        return 0;
    }

    private static int ParseLines(ArgumentResult result)
    {
        string text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int n)) return n;
        result.AddError($"--lines must be a number of lines (0 or more), not '{text}'");
        return 0;
    }

    internal static string BuildPath(string target, int lines, bool follow, bool err, bool @out)
    {
        // --err and --out together mean both, same as neither.
        string stream = err == @out ? "both" : err ? "err" : "out";
        return string.Create(CultureInfo.InvariantCulture,
            $"{ApiRoutes.Logs}?target={Uri.EscapeDataString(target)}&lines={lines}&follow={(follow ? "true" : "false")}&stream={stream}");
    }
}
