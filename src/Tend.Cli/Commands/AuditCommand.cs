using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Tend.Api;

namespace Tend.Cli.Commands;

/// <summary>`tend audit`: who changed what, from $TEND_HOME/audit.log through the daemon (docs/audit.md).</summary>
internal sealed class AuditCommand : TendCommand
{
    private readonly Option<DateTimeOffset?> _since = new("--since")
    {
        Description = "Only records from this time on: a duration back from now (30m, 2h, 7d) or a time (2026-12-05T10:00:00Z)",
        HelpName = "WHEN",
        CustomParser = ParseSince,
    };
    private readonly Option<string?> _app = new("--app") { Description = "Only records about this app" };
    private readonly Option<bool> _json = new("--json") { Description = "Print the records as a JSON array" };

    public AuditCommand(CliContext context) : base("audit", "Show who did what: every action that changed something, and Tend's own.", context)
    {
        Add(_since);
        Add(_app);
        Add(_json);
        Subcommands.Add(new AuditVerifyCommand(context));
    }

    protected override async Task<int> ExecuteAsync(ParseResult parseResult, CancellationToken ct)
    {
        var query = new List<string>();
        if (parseResult.GetValue(_since) is DateTimeOffset since) query.Add("since=" + Uri.EscapeDataString(since.ToString("O", CultureInfo.InvariantCulture)));
        if (parseResult.GetValue(_app) is { } app) query.Add("app=" + Uri.EscapeDataString(app));
        using DaemonClient client = Context.CreateClient(autoStart: false);
        AuditRecordDto[] records = await client.GetAsync(ApiRoutes.Audit + (query.Count > 0 ? "?" + string.Join('&', query) : ""),
            TendJsonContext.Default.AuditRecordDtoArray, ct).ConfigureAwait(false);
        TextWriter output = Out(parseResult);
        if (parseResult.GetValue(_json))
        {
            output.WriteLine(JsonSerializer.Serialize(records, TendJsonContext.Default.AuditRecordDtoArray));
            return 0;
        }
        if (records.Length == 0) output.WriteLine("no audit records" + (query.Count > 0 ? " match" : " yet"));
        foreach (AuditRecordDto r in records) output.WriteLine(Render(r, Context.TimeZone));
        return 0;
    }

    internal static string Render(AuditRecordDto r, TimeZoneInfo zone)
    {
        var line = new StringBuilder();
        line.Append(TimeZoneInfo.ConvertTime(r.Time, zone).ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture));
        line.Append("  #").Append(r.Seq.ToString(CultureInfo.InvariantCulture)).Append("  ").Append(Who(r.Actor)).Append("  ").Append(r.Action);
        if (r.Target is { } t) line.Append(' ').Append(t);
        line.Append("  ").Append(r.Outcome);
        if (r.Detail is { } d) line.Append("  (").Append(d).Append(')');
        return line.ToString();
    }

    private static string Who(AuditActorDto a) => a.Kind switch
    {
        "user" => $"{a.User ?? "uid " + a.Uid} (uid {a.Uid}, pid {a.Pid}{(a.Exe is null ? "" : ", " + Path.GetFileName(a.Exe))})",
        "token" => $"token {a.TokenId} from {a.Peer}",
        _ => "tend",
    };

    private static DateTimeOffset? ParseSince(ArgumentResult result)
    {
        string text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
        if (Config.Units.TryParseDuration(text, out TimeSpan back) && back >= TimeSpan.Zero) return DateTimeOffset.UtcNow - back;
        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out DateTimeOffset at)) return at;
        result.AddError($"--since must be a duration (30m, 2h, 7d) or a time (2026-12-05T10:00:00Z), not '{text}'");
        return null;
    }
}

/// <summary>`tend audit verify`: check the hash chain over every file; exit 1 naming the first broken records.</summary>
internal sealed class AuditVerifyCommand : TendCommand
{
    private readonly Option<bool> _json = new("--json") { Description = "Print the result as JSON" };

    public AuditVerifyCommand(CliContext context) : base("verify", "Check that no audit record was edited, removed or inserted.", context)
    {
        Add(_json);
    }

    protected override async Task<int> ExecuteAsync(ParseResult parseResult, CancellationToken ct)
    {
        using DaemonClient client = Context.CreateClient(autoStart: false);
        AuditVerifyResult v = await client.GetAsync(ApiRoutes.AuditVerify, TendJsonContext.Default.AuditVerifyResult, ct).ConfigureAwait(false);
        if (parseResult.GetValue(_json))
        {
            Out(parseResult).WriteLine(JsonSerializer.Serialize(v, TendJsonContext.Default.AuditVerifyResult));
            return v.Ok ? 0 : 1;
        }
        if (v.Ok)
        {
            Out(parseResult).WriteLine(v.Records == 0
                ? "the audit log is empty"
                : $"ok: {v.Records} records, seq {v.FirstSeq}–{v.LastSeq}, chained unbroken across {v.Files.Count} file(s)");
            return 0;
        }
        TextWriter error = Error(parseResult);
        error.WriteLine($"error: the audit log has been tampered with ({v.Problems.Count} problem(s) in {v.Records} records):");
        foreach (string p in v.Problems) error.WriteLine("  " + p);
        return 1;
    }
}
