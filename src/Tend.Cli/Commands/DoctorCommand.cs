using System.CommandLine;
using System.Text;
using System.Text.Json;
using Tend.Api;
using Tend.Cli.Rendering;

namespace Tend.Cli.Commands;

/// <summary>
/// `tend doctor`: what this host and this daemon can enforce (cgroups and their controllers, the
/// subreaper, pidfds, switching users, open files, the health address, the token) and every app
/// setting that cannot be honoured here. Exit 1 when something configured cannot be enforced.
/// </summary>
internal sealed class DoctorCommand : TendCommand
{
    private readonly Option<bool> _json = new("--json") { Description = "Print the report as JSON" };

    public DoctorCommand(CliContext context) : base("doctor", "Check what this host and daemon can enforce (cgroups, users, limits, fds).", context)
    {
        Add(_json);
    }

    protected override async Task<int> ExecuteAsync(ParseResult parseResult, CancellationToken ct)
    {
        using DaemonClient client = Context.CreateClient(autoStart: true);
        DoctorReport report = await client.GetAsync(ApiRoutes.Doctor, TendJsonContext.Default.DoctorReport, ct).ConfigureAwait(false);
        Out(parseResult).Write(parseResult.GetValue(_json)
            ? JsonSerializer.Serialize(report, TendJsonContext.Default.DoctorReport) + "\n"
            : Render(report, Context.Color));
        return report.Ok ? 0 : 1;
    }

    internal static string Render(DoctorReport report, bool color)
    {
        var text = new StringBuilder();
        int width = report.Checks.Max(c => c.Name.Length);
        foreach (DoctorCheck check in report.Checks)
        {
            string? sgr = check.Status switch { "ok" => Ansi.Green, "warn" => Ansi.Yellow, "fail" => Ansi.Red, _ => Ansi.Grey };
            text.Append(Ansi.Paint(check.Status.PadRight(4), sgr, color)).Append("  ")
                .Append(check.Name.PadRight(width)).Append("  ").Append(check.Detail).Append('\n');
        }
        text.Append(report.Ok ? "everything configured can be enforced here\n" : "some settings cannot be enforced here (fail lines above)\n");
        return text.ToString();
    }
}
