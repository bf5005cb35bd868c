using Tend.Api;

namespace Tend.Cli.Commands;

internal sealed class StopCommand : TargetActionCommand
{
    public StopCommand(CliContext context)
        : base("stop", "Stop an app, an instance, or all (its stop signal, then SIGKILL after kill_timeout).", ApiRoutes.Stop, listAfter: true, context)
    {
    }
}
