using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using Tend.Api;
using Tend.Cli.Rendering;

namespace Tend.Cli.Commands;

/// <summary>
/// `tend events`: the daemon's buffered lifecycle events, then the live ones as they happen. The
/// daemon answers NDJSON (GET /v1/events), one <see cref="TendEvent"/> per line; each is printed
/// as it arrives. Ctrl-C is the normal way out and exits 0.
/// </summary>
internal sealed class EventsCommand : TendCommand
{
    private readonly Option<long?> _after = new("--after")
    {
        Description = "Only events after this sequence number (what a reconnecting reader last saw)",
        HelpName = "SEQ",
        CustomParser = ParseAfter,
    };
    private readonly Option<bool> _noFollow = new("--no-follow") { Description = "Print the buffered events and exit" };
    private readonly Option<bool> _json = new("--json") { Description = "Print each event as a JSON object, one per line" };

    public EventsCommand(CliContext context) : base("events", "Show lifecycle events (started, exited, restarts, readiness, reloads...) and follow new ones.", context)
    {
        Add(_after);
        Add(_noFollow);
        Add(_json);
    }

    protected override async Task<int> ExecuteAsync(ParseResult parseResult, CancellationToken ct)
    {
        string path = BuildPath(parseResult.GetValue(_after), follow: !parseResult.GetValue(_noFollow));
        bool json = parseResult.GetValue(_json);
        TextWriter output = Out(parseResult);

        using DaemonClient client = Context.CreateClient(autoStart: true);
        await NdjsonStream.FollowAsync(client, path, TendJsonContext.Default.TendEvent, "event", "event", (line, e) =>
        {
            output.WriteLine(json ? line : EventText.Render(e, Context.TimeZone, Context.Color));
            output.Flush();
        }, ct).ConfigureAwait(false);
        return 0;
    }

    private static long? ParseAfter(ArgumentResult result)
    {
        string text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
        if (long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out long n)) return n;
        result.AddError($"--after must be an event sequence number (0 or more), not '{text}'");
        return null;
    }

    internal static string BuildPath(long? after, bool follow) =>
        string.Create(CultureInfo.InvariantCulture,
            $"{ApiRoutes.Events}?follow={(follow ? "true" : "false")}{(after is long a ? $"&after={a}" : "")}");
}
