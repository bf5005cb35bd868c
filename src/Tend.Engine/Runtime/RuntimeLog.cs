using Microsoft.Extensions.Logging;

namespace Tend.Runtime;

internal static partial class RuntimeLog
{
    [LoggerMessage(8001, LogLevel.Debug, "{Label} pid {Pid}: no .NET diagnostic socket after {Looks} looks; not watched")]
    public static partial void NotDotnet(ILogger logger, string label, int pid, int looks);

    [LoggerMessage(8002, LogLevel.Information, "{Label} pid {Pid}: reading .NET runtime counters through {Socket}")]
    public static partial void Watching(ILogger logger, string label, int pid, string socket);

    [LoggerMessage(8003, LogLevel.Warning, "{Label} pid {Pid}: .NET counter session failed ({Error}); retrying in {DelayMs} ms")]
    public static partial void SessionFailed(ILogger logger, string label, int pid, string error, long delayMs);

    [LoggerMessage(8004, LogLevel.Debug, "{Label} pid {Pid}: waiting for one of the {Max} .NET counter sessions to free up")]
    public static partial void WaitingForSlot(ILogger logger, string label, int pid, int max);

    [LoggerMessage(8005, LogLevel.Debug, "{Label} pid {Pid}: .NET counter session ended while the process lives on; again in {DelayMs} ms")]
    public static partial void SessionEnded(ILogger logger, string label, int pid, long delayMs);
}
