using Tend.Api;

namespace Tend.Cli.Commands;

internal sealed class RestartCommand : TargetActionCommand
{
    public RestartCommand(CliContext context)
        : base("restart", "Restart an app, an instance, or all.", ApiRoutes.Restart, listAfter: true, context)
    {
    }
}
