using Tend.Api;

namespace Tend.Cli.Commands;

internal sealed class DeleteCommand : TargetActionCommand
{
    public DeleteCommand(CliContext context)
        : base("delete", "Stop and forget an app, an instance, or all.", ApiRoutes.Delete, listAfter: false, context)
    {
        Aliases.Add("del");
    }
}
