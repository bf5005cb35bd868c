using Tend.Api;

namespace Tend.Cli.Commands;

internal sealed class ResetCommand : TargetActionCommand
{
    public ResetCommand(CliContext context)
        : base("reset", "Reset the restart counters of an app, an instance, or all.", ApiRoutes.Reset, listAfter: false, context)
    {
    }
}
