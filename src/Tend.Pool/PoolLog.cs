using Microsoft.Extensions.Logging;

namespace Tend.Pool;

internal static partial class PoolLog
{
    [LoggerMessage(Level = LogLevel.Information, Message = "pool {Pool}: {Workers} workers of {Spec} ready")]
    public static partial void Started(ILogger logger, string pool, int workers, string spec);

    [LoggerMessage(Level = LogLevel.Information, Message = "pool {Pool}: worker {Worker} (pid {Pid}) of {Spec} ready")]
    public static partial void WorkerStarted(ILogger logger, string pool, int worker, int pid, string spec);

    [LoggerMessage(Level = LogLevel.Warning, Message = "pool {Pool}: worker {Worker} (pid {Pid}) lost: {Reason}; starting a replacement")]
    public static partial void WorkerLost(ILogger logger, string pool, int worker, int pid, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "pool {Pool}: worker {Worker} (pid {Pid}) retired ({Reason}) after {Tasks} tasks")]
    public static partial void WorkerRetired(ILogger logger, string pool, int worker, int pid, string reason, long tasks);

    [LoggerMessage(Level = LogLevel.Warning, Message = "pool {Pool}: worker {Worker} (pid {Pid}) did not answer a ping within {Seconds} s: killing it")]
    public static partial void WorkerHung(ILogger logger, string pool, int worker, int pid, double seconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "pool {Pool}: a task on worker {Worker} (pid {Pid}) ran past its timeout of {Seconds} s: the worker is replaced")]
    public static partial void TaskTimedOut(ILogger logger, string pool, int worker, int pid, double seconds);

    [LoggerMessage(Level = LogLevel.Error, Message = "pool {Pool}: {Detail}")]
    public static partial void StartFailed(ILogger logger, string pool, string detail);

    [LoggerMessage(Level = LogLevel.Information, Message = "pool {Pool}: {Count} workers replaced by {Spec}")]
    public static partial void Replaced(ILogger logger, string pool, int count, string spec);

    [LoggerMessage(Level = LogLevel.Information, Message = "pool {Pool}: swapped to {Count} workers of {Spec}")]
    public static partial void Swapped(ILogger logger, string pool, string spec, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "pool {Pool}: swap to {Spec} abandoned: {Problem}")]
    public static partial void SwapAbandoned(ILogger logger, string pool, string spec, string problem);

    [LoggerMessage(Level = LogLevel.Information, Message = "pool {Pool}: shut down")]
    public static partial void ShutDown(ILogger logger, string pool);

    [LoggerMessage(Level = LogLevel.Error, Message = "pool {Pool}: a heartbeat failed")]
    public static partial void HeartbeatFailed(ILogger logger, string pool, Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "pool {Pool}: a WorkerEvent handler threw")]
    public static partial void HandlerFailed(ILogger logger, string pool, Exception exception);
}
