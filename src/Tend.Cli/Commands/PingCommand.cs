using System.CommandLine;
using System.Text.Json;
using Tend.Api;
using Tend.Cli.Rendering;

namespace Tend.Cli.Commands;

/// <summary>`tend ping`: start the daemon if needed (like `pm2 ping`) and say who answered.</summary>
internal sealed class PingCommand : TendCommand
{
    private readonly Option<bool> _json = new("--json") { Description = "Print the daemon's answer as JSON" };

    public PingCommand(CliContext context) : base("ping", "Check that the daemon answers, starting it if needed.", context)
    {
        Add(_json);
    }

    protected override async Task<int> ExecuteAsync(ParseResult parseResult, CancellationToken ct)
    {
        using DaemonClient client = Context.CreateClient(autoStart: true);
        PingInfo ping = await client.GetAsync(ApiRoutes.Ping, TendJsonContext.Default.PingInfo, ct).ConfigureAwait(false);
        Out(parseResult).WriteLine(parseResult.GetValue(_json)
            ? JsonSerializer.Serialize(ping, TendJsonContext.Default.PingInfo)
            : Describe(ping));
        return 0;
    }

    internal static string Describe(PingInfo ping)
    {
        string fds = ping.FdsInUse is int used ? $", fds {used}/{(ping.FdLimit is long limit ? limit.ToString(System.Globalization.CultureInfo.InvariantCulture) : "unlimited")}" : "";
        string line = $"pong (daemon pid {ping.Pid}, home {ping.Home}, up {Format.Uptime(ping.UptimeMs)}, health {ping.HealthUrl ?? "off"}{fds})";
        if (ping.HealthUrl is null && ping.HealthError is { } why)
            line += $"\nhealth endpoints and dashboard off: {why}; start the daemon with TEND_HEALTH=127.0.0.1:PORT (a free port) or TEND_HEALTH=off (tend kill, then any tend command)";
        return line;
    }
}
