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
    private readonly Argument<string> _target = TargetWords.AllByDefault();
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
    private readonly Option<string?> _timestamp = new("--timestamp")
    {
        Description = $"Put each line's time before its text, in this shell's time zone; the format as PM2's (default {DefaultTimestampFormat})",
        HelpName = "format",
        Arity = ArgumentArity.ZeroOrOne,
    };

    /// <summary>PM2's default for logs --timestamp.</summary>
    internal const string DefaultTimestampFormat = "YYYY-MM-DD-HH:mm:ss";

    public LogsCommand(CliContext context) : base("logs", "Show and follow the output of an app, an instance, or all.", context)
    {
        Add(_target);
        Add(_lines);
        Add(_noFollow);
        Add(_err);
        Add(_out);
        Add(_json);
        Add(_raw);
        Add(_timestamp);
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
        string? stampFormat = null;
        if (parseResult.GetResult(_timestamp) is not null)
        {
            if (json) throw new CliException("--json lines carry their time already: --timestamp is for text", 2);
            stampFormat = TimestampFormat(parseResult.GetValue(_timestamp) ?? DefaultTimestampFormat);
        }
        TextWriter output = Out(parseResult);
        TimeZoneInfo zone = Context.TimeZone;

        using DaemonClient client = Context.CreateClient(autoStart: true);
        await NdjsonStream.FollowAsync(client, path, TendJsonContext.Default.LogLineDto, "log line", "log", (_, dto) =>
        {
            if (stampFormat is not null && dto.Time is DateTimeOffset time)
                dto = dto with { Text = TimeZoneInfo.ConvertTime(time, zone).ToString(stampFormat, CultureInfo.InvariantCulture) + " " + dto.Text };
            output.WriteLine(json
                ? JsonSerializer.Serialize(dto, TendJsonContext.Default.LogLineDto)
                : raw ? LogLineText.RenderRaw(dto, Context.Terminal)
                : LogLineText.Render(dto, Context.Color, Context.Terminal));
        }, ct).ConfigureAwait(false);
        return 0;
    }

    /// <summary>
    /// PM2's format (moment's tokens: YYYY, YY, DD, SSS, Z; the rest as .NET reads them) as a .NET custom
    /// format, checked once here so that a bad one is a usage error rather than a failure mid-stream.
    /// </summary>
    internal static string TimestampFormat(string pm2)
    {
        if (pm2.Trim().Length == 0) throw new CliException("--timestamp's format is empty", 2);
        // `tend logs --timestamp web` took the app for the format: say so rather than print "web" before every line.
        if (pm2.IndexOfAny(['Y', 'M', 'D', 'H', 'h', 'm', 's', 'S']) < 0)
            throw new CliException($"--timestamp: '{pm2}' has no date or time in it (e.g. {DefaultTimestampFormat}); a target goes before it: tend logs web --timestamp", 2);
        string format = pm2.Replace("YYYY", "yyyy", StringComparison.Ordinal).Replace("YY", "yy", StringComparison.Ordinal)
            .Replace("DD", "dd", StringComparison.Ordinal).Replace("SSS", "fff", StringComparison.Ordinal).Replace("Z", "zzz", StringComparison.Ordinal);
        try { _ = DateTimeOffset.UnixEpoch.ToString(format, CultureInfo.InvariantCulture); }
        catch (FormatException) { throw new CliException($"--timestamp: '{pm2}' is not a time format (e.g. {DefaultTimestampFormat})", 2); }
        return format;
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
