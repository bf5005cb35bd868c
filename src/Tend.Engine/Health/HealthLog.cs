using Microsoft.Extensions.Logging;

namespace Tend.Health;

/// <summary>
/// Health events that go to daemon.log. Event ids are stable (5xxx: health; see EngineLog for the
/// others); tools may filter on them.
/// </summary>
internal static partial class HealthLog
{
    // The level is the caller's: the first drop on an endpoint is worth an information line, a process
    // that keeps sending is not worth one line per datagram.
    [LoggerMessage(EventId = 5001, Message = "notify {Endpoint}: dropped a datagram from pid {Pid}, not a process of this instance ({Foreign} so far)")]
    public static partial void ForeignSender(ILogger logger, LogLevel level, string endpoint, int pid, long foreign);

    [LoggerMessage(EventId = 5002, Message = "notify {Endpoint}: dropped a malformed datagram from pid {Pid}: {Reason} ({Malformed} so far)")]
    public static partial void MalformedDatagram(ILogger logger, LogLevel level, string endpoint, int pid, string reason, long malformed);

    [LoggerMessage(5003, LogLevel.Error, "notify {Endpoint}: the handler of a message from pid {Pid} failed")]
    public static partial void HandlerFailed(ILogger logger, Exception exception, string endpoint, int pid);

    [LoggerMessage(5004, LogLevel.Error, "notify {Endpoint}: recvmsg failed: {Error}; the endpoint stops listening")]
    public static partial void ReceiveFailed(ILogger logger, string endpoint, string error);

    [LoggerMessage(5005, LogLevel.Critical, "notify hub: epoll_wait failed: {Error}; no notify message will be read any more")]
    public static partial void WaitFailed(ILogger logger, string error);
}
