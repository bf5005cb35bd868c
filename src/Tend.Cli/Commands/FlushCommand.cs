using Tend.Api;

namespace Tend.Cli.Commands;

internal sealed class FlushCommand : TargetActionCommand
{
    public FlushCommand(CliContext context)
        : base("flush", "Empty the log files of an app, an instance, or all.", ApiRoutes.Flush, listAfter: false, context)
    {
    }
}
