using Microsoft.Extensions.Logging;

namespace Tend.Supervision;

/// <summary>The daemon-log line a lifecycle transition means, if any (one per transition, next to its event).</summary>
internal static class TransitionLog
{
    public static void Write(ILogger logger, InstanceTransition t)
    {
        switch (t.Input)
        {
            case ProcessStarted p:
                EngineLog.Started(logger, t.App, t.Number, p.Pid);
                break;
            case Adopted a:
                EngineLog.Adopted(logger, t.App, t.Number, a.Pid, a.How);
                break;
            case SpawnFailed f:
                EngineLog.SpawnFailed(logger, t.App, t.Number, f.Reason);
                break;
            case ProcessExited e when e.ByUser:
                EngineLog.Stopped(logger, t.App, t.Number, e.Pid, e.Exit.ToString());
                break;
            case ProcessExited e:
                EngineLog.Exited(logger, t.App, t.Number, e.Pid, e.Exit.ToString(), (long)e.Uptime.TotalMilliseconds);
                break;
            case AppReportsStopping:
                EngineLog.ReportsStopping(logger, t.Label);
                break;
            case RestartsInPlace r:
                EngineLog.Restarting(logger, t.App, t.Number, 0, t.After.Restarts, r.Reason);
                break;
            case RestartScheduled r:
                EngineLog.Restarting(logger, t.App, t.Number, (long)r.Delay.TotalMilliseconds, t.After.Restarts + 1, r.Cause);
                break;
            case LoopEnded { Kind: InstanceEndKind.Blocked } e:
                EngineLog.Blocked(logger, t.App, t.Number, e.Reason);
                break;
            case LoopEnded { Kind: InstanceEndKind.Finished } e:
                EngineLog.NotRestarted(logger, t.App, t.Number, "stopped", e.Reason);
                break;
            case LoopEnded { Kind: InstanceEndKind.GaveUp or InstanceEndKind.InternalError } e:
                EngineLog.Errored(logger, t.App, t.Number, e.Detail ?? e.Reason);
                break;
        }
    }
}
