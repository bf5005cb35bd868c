using System.CommandLine;
using Tend.Api;

namespace Tend.Cli.Commands;

/// <summary>`tend restart TARGET [--update-env]`: stop and start again (PM2's restart, --update-env included).</summary>
internal sealed class RestartCommand : TargetActionCommand
{
    private readonly Option<bool> _updateEnv = new("--update-env")
    {
        Description = "Read the app's config file and this shell's environment again first (an app started from a command takes the environment)",
    };

    public RestartCommand(CliContext context)
        : base("restart", "Restart an app, an instance, or all.", ApiRoutes.Restart, listAfter: true, context)
    {
        Add(_updateEnv);
    }

    protected override Task<ActionResult> PostAsync(DaemonClient client, string route, string target, ParseResult parseResult, CancellationToken ct)
    {
        bool updateEnv = parseResult.GetValue(_updateEnv);
        return client.PostAsync(route, new RestartRequest(target, updateEnv, updateEnv ? Context.GetEnvironment() : null),
            TendJsonContext.Default.RestartRequest, TendJsonContext.Default.ActionResult, ct);
    }
}
