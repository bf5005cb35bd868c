using System.Net;
using System.Net.Sockets;
using Tend.Api;
using Tend.Config;
using Tend.Daemon.Wire;
using Tend.Supervision;

namespace Tend.Daemon;

/// <summary>
/// The health endpoints for load balancers, Kubernetes probes and monitoring: /health, /ready,
/// /live, /apps/{name}/health and /metrics. They answer anyone who can reach the TCP listener,
/// who learns app names and states and can change nothing; the same listener serves the dashboard
/// and a few API routes under <see cref="TcpAccess"/>'s rules. The full control API stays on the
/// unix socket, whose file mode is what keeps other users out.
/// </summary>
internal static class HealthEndpoints
{
    public static void MapHealthEndpoints(this WebApplication app, long started)
    {
        var json = TendJsonContext.Default;

        // Over TCP, TcpAccess decides: health for anyone, the dashboard and a few API routes under
        // its rules, nothing else. The unix socket (no IP address) is not filtered.
        TcpAccess access = app.Services.GetRequiredService<TcpAccess>();
        app.Use(async (context, next) =>
        {
            if (context.Connection.LocalIpAddress is IPAddress local && context.Connection.RemoteIpAddress is IPAddress remote
                && access.Check(context.Request, new IPEndPoint(Unmap(remote), context.Connection.RemotePort),
                    new IPEndPoint(Unmap(local), context.Connection.LocalPort)) is TcpAccess.Refusal refusal)
            {
                context.Response.StatusCode = refusal.Status;
                if (refusal.Status == 401) context.Response.Headers.WWWAuthenticate = "Bearer realm=\"tend\"";
                await context.Response.WriteAsJsonAsync(new ErrorResponse(refusal.Error, [], 1), json.ErrorResponse);
                return;
            }
            await next(context);
        });

        app.MapGet(ApiRoutes.Health, (Supervisor s) =>
        {
            IReadOnlyList<AppHealthState> apps = s.AppsHealth();
            HealthTier tier = AppHealthReader.Overall(apps);
            var report = new HealthReport(tier.ToWire(), Environment.ProcessId, ThisAssembly.Version,
                (long)TimeProvider.System.GetElapsedTime(started).TotalMilliseconds, [.. apps.Select(WireMapper.ToWire)]);
            return Results.Json(report, json.HealthReport, statusCode: tier == HealthTier.Critical ? 503 : 200);
        });

        app.MapGet(ApiRoutes.Ready, (Supervisor s) =>
        {
            IReadOnlyList<AppHealthState> apps = s.AppsHealth();
            bool ready = AppHealthReader.AllReady(apps);
            var report = new HealthReport(ready ? "ready" : "not ready", Environment.ProcessId, ThisAssembly.Version,
                (long)TimeProvider.System.GetElapsedTime(started).TotalMilliseconds, [.. apps.Select(WireMapper.ToWire)]);
            return Results.Json(report, json.HealthReport, statusCode: ready ? 200 : 503);
        });

        app.MapGet(ApiRoutes.Live, () => Results.Text("alive\n"));

        app.MapGet(ApiRoutes.AppHealthPrefix + "{name}/health", (string name, Supervisor s) =>
        {
            if (s.AppHealthOf(name) is not AppHealthState health)
                return Results.Json(new ErrorResponse($"no app named \"{name}\"", [], 1), json.ErrorResponse, statusCode: 404);
            return Results.Json(WireMapper.ToWire(health), json.AppHealth, statusCode: health.Ready > 0 ? 200 : 503);
        });
    }

    private static IPAddress Unmap(IPAddress ip) => ip.IsIPv4MappedToIPv6 ? ip.MapToIPv4() : ip;

    internal static bool IsHealthPath(PathString path) =>
        path == ApiRoutes.Health || path == ApiRoutes.Ready || path == ApiRoutes.Live || path == ApiRoutes.Metrics
        || (path.StartsWithSegments(ApiRoutes.AppHealthPrefix.TrimEnd('/'), out PathString rest) && rest.Value?.EndsWith("/health", StringComparison.Ordinal) == true);
}

/// <summary>
/// Where the health listener binds: TEND_HEALTH or --health, "host:port", or "off". The default
/// is <see cref="ApiRoutes.DefaultHealthAddress"/>. Url is filled in once Kestrel has bound (port 0
/// picks a free port, which tests use); null when off or when the port was taken.
/// </summary>
internal sealed class HealthAddress
{
    public IPEndPoint? EndPoint { get; private set; }
    public string? Url { get; set; }

    /// <summary>Why the listener is off although one was asked for (the port was taken), for `tend ping`.</summary>
    public string? Problem { get; private set; }

    /// <summary>Null on success, else what is wrong with <paramref name="text"/>.</summary>
    public static string? TryParse(string text, out HealthAddress address)
    {
        address = new HealthAddress();
        if (string.Equals(text, "off", StringComparison.OrdinalIgnoreCase) || string.Equals(text, "false", StringComparison.OrdinalIgnoreCase))
            return null;
        // The same address forms as an app's listen: (one parser for both), TCP only.
        if (!ListenAddress.TryParse(text, out ListenAddress? parsed, out string? error))
            return $"health address: {error}, or off";
        if (parsed.Kind != ListenKind.Tcp)
            return $"health address \"{text}\" is a unix socket path; the health listener is TCP (such as 127.0.0.1:8363), or off";
        address.EndPoint = new IPEndPoint(parsed.Host ?? IPAddress.IPv6Any, parsed.Port);
        return null;
    }

    /// <summary>
    /// Whether the port can be bound now. A taken port must not keep the daemon (and every app)
    /// from starting: the daemon logs it and runs without the health listener.
    /// </summary>
    public string? CheckBindable()
    {
        if (EndPoint is null || EndPoint.Port == 0) return null;
        try
        {
            using var socket = new Socket(EndPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true); // as Kestrel binds
            socket.Bind(EndPoint);
            return null;
        }
        catch (SocketException ex)
        {
            string why = ex.Message;
            Problem = $"cannot listen on {EndPoint}: {why}";
            EndPoint = null;
            return why;
        }
    }
}
