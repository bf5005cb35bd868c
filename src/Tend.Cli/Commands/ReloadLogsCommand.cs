using Tend.Api;

namespace Tend.Cli.Commands;

/// <summary>
/// `tend reloadLogs [target]` (PM2's): every instance opens its log files again, so a logrotate that
/// moved them away (its default, without copytruncate) can end with `postrotate tend reloadLogs`.
/// Tend's own rotation (max_size) needs none of this.
/// </summary>
internal sealed class ReloadLogsCommand : TargetActionCommand
{
    public ReloadLogsCommand(CliContext context)
        : base("reloadLogs", "Open the log files again, after logrotate moved them away (all apps by default).", ApiRoutes.ReopenLogs, listAfter: false, context, defaultTarget: "all")
    {
        Aliases.Add("reload-logs");
    }
}
