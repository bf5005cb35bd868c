using System.Net;
using Microsoft.Extensions.Logging;

namespace Tend.Cluster;

/// <summary>
/// Proxy events that go to daemon.log. Event ids are stable (61xx: the cluster proxy; see EngineLog and
/// HealthLog for the others); tools may filter on them.
/// </summary>
internal static partial class ProxyLog
{
    [LoggerMessage(6101, LogLevel.Information, "proxy {Listen}: listening")]
    public static partial void Listening(ILogger logger, EndPoint listen);

    [LoggerMessage(6102, LogLevel.Warning, "proxy {Listen}: connecting to backend {Backend} ({BackendEndPoint}) failed: {Error}")]
    public static partial void BackendConnectFailed(ILogger logger, EndPoint listen, string backend, EndPoint backendEndPoint, string error);

    [LoggerMessage(6103, LogLevel.Warning, "proxy {Listen}: no backend could take the client {Client} within {Wait}; closed it")]
    public static partial void NoBackend(ILogger logger, EndPoint listen, EndPoint? client, TimeSpan wait);

    [LoggerMessage(6104, LogLevel.Error, "proxy {Listen}: accept failed: {Error}")]
    public static partial void AcceptFailed(ILogger logger, EndPoint listen, string error);

    [LoggerMessage(6105, LogLevel.Error, "proxy {Listen}: a connection failed unexpectedly")]
    public static partial void ConnectionFailed(ILogger logger, Exception exception, EndPoint listen);

    [LoggerMessage(6106, LogLevel.Information, "proxy {Listen}: stopped; closed {Open} open connection(s)")]
    public static partial void Stopped(ILogger logger, EndPoint listen, int open);
}
