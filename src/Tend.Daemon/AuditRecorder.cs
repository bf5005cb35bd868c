using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Connections.Features;
using Tend.Api;
using Tend.Audit;
using Tend.Events;
using Tend.Io;

namespace Tend.Daemon;

/// <summary>
/// Feeds the <see cref="AuditTrail"/> (docs/audit.md): every request that changes something, with the
/// caller the kernel names (SO_PEERCRED on the unix socket) or the token id and peer over TCP, what it
/// asked, and the answer; and the daemon's own actions, from the engine's event stream, as the system's.
/// </summary>
internal sealed class AuditRecorder : IAsyncDisposable
{
    /// <summary>The routes that change something, and the action each is recorded as.</summary>
    private static readonly Dictionary<string, string> s_actions = new(StringComparer.Ordinal)
    {
        [ApiRoutes.Start] = "start", [ApiRoutes.Stop] = "stop", [ApiRoutes.Restart] = "restart", [ApiRoutes.Delete] = "delete",
        [ApiRoutes.Reset] = "reset", [ApiRoutes.Flush] = "flush", [ApiRoutes.ReopenLogs] = "reopen_logs", [ApiRoutes.Signal] = "signal", [ApiRoutes.Reload] = "reload",
        [ApiRoutes.Deploy] = "deploy", [ApiRoutes.Scale] = "scale", [ApiRoutes.Save] = "save", [ApiRoutes.Resurrect] = "resurrect",
        [ApiRoutes.Kill] = "kill", [ApiRoutes.Upgrade] = "upgrade",
    };

    /// <summary>Engine events that are the daemon acting on its own (automatic restarts, limits, escalations).</summary>
    private static readonly HashSet<string> s_systemEvents =
    [
        EventTypes.RestartScheduled, EventTypes.MemoryLimit, EventTypes.Oom, EventTypes.HealthFailed, EventTypes.Errored,
        EventTypes.SupervisorRestart, EventTypes.SupervisorFailed, EventTypes.AutoShutdown,
    ];

    /// <summary>HttpContext.Items key: the answer's sentence, or the error, set where the answer is made.</summary>
    public const string AnswerKey = "tend.audit.answer";

    private readonly AuditTrail _trail;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _system;

    public AuditRecorder(AuditTrail trail, EventHub events)
    {
        _trail = trail;
        _system = Task.Run(() => FollowAsync(events));
    }

    public AuditTrail Trail => _trail;

    private async Task FollowAsync(EventHub events)
    {
        try
        {
            long after = events.Snapshot().LastOrDefault()?.Seq ?? 0;
            await foreach (LifecycleEvent e in events.SubscribeAsync(after, _stop.Token).ConfigureAwait(false))
            {
                if (!s_systemEvents.Contains(e.Type)) continue;
                string? target = e.App is null ? null : e.Instance is int n ? $"{e.App}#{n}" : e.App;
                _trail.Append(new AuditEntry(AuditActor.System, e.Type, target, "ok", e.Message));
            }
        }
        catch (OperationCanceledException) { }
    }

    /// <summary>The middleware: lets the request run, then records it if it was an action.</summary>
    public async Task InvokeAsync(HttpContext context, Func<Task> next, TcpAccess tcp)
    {
        if (!HttpMethods.IsPost(context.Request.Method) || !s_actions.TryGetValue(context.Request.Path.Value ?? "", out string? action))
        {
            await next();
            return;
        }
        context.Request.EnableBuffering();
        AuditActor actor = Caller(context, tcp);
        try
        {
            await next();
        }
        finally
        {
            (string? target, string? detail) = await DescribeAsync(context.Request, action);
            int status = context.Response.StatusCode;
            string? answer = context.Items.TryGetValue(AnswerKey, out object? a) ? a as string : null;
            string outcome = status < 400 ? "ok" : (status is 401 or 403 ? "refused: " : "failed: ") + (answer ?? $"HTTP {status}");
            if (status < 400 && answer is not null) detail = detail is null ? answer : detail + "; " + answer;
            _trail.Append(new AuditEntry(actor, action, target, outcome, detail));
        }
    }

    private static AuditActor Caller(HttpContext context, TcpAccess tcp)
    {
        var socket = context.Features.Get<IConnectionSocketFeature>()?.Socket;
        if (socket is not null && PeerCredentials.Of(socket) is { } peer)
        {
            string? name = Tend.Isolation.UserAccounts.FindUser(peer.Uid.ToString(System.Globalization.CultureInfo.InvariantCulture))?.Name;
            return new AuditActor(ActorKind.User, peer.Uid, peer.Gid, peer.Pid, name, peer.Executable());
        }
        IPAddress? remote = context.Connection.RemoteIpAddress;
        string address = remote is null ? "unknown" : new IPEndPoint(remote, context.Connection.RemotePort).ToString();
        return new AuditActor(ActorKind.Token, TokenId: tcp.TokenId ?? "none (loopback, the daemon's own user)", Peer: address);
    }

    /// <summary>The target and the parameters worth keeping, from the request body (never its environment).</summary>
    private static async Task<(string? Target, string? Detail)> DescribeAsync(HttpRequest request, string action)
    {
        try
        {
            if (request.Body.CanSeek) request.Body.Position = 0;
            using JsonDocument doc = await JsonDocument.ParseAsync(request.Body);
            JsonElement body = doc.RootElement;
            if (body.ValueKind != JsonValueKind.Object) return (null, null);
            string? target = Str(body, "target") ?? Str(body, "app") ?? Str(body, "name");
            var detail = new List<string>();
            if (Str(body, "config_path") is { } config) detail.Add("config " + config);
            if (body.TryGetProperty("command", out var command) && command.ValueKind == JsonValueKind.Array && command.GetArrayLength() > 0)
            {
                string program = command[0].GetString() ?? "";
                target ??= Path.GetFileName(program);
                detail.Add($"command {program} (+{command.GetArrayLength() - 1} args)");
            }
            foreach (string key in new[] { "signal", "scope", "strategy", "count", "delta", "parallel", "instances", "canary" })
                if (body.TryGetProperty(key, out var v) && v.ValueKind is not JsonValueKind.Null) detail.Add($"{key} {v}");
            if (body.TryGetProperty("only", out var only) && only.ValueKind == JsonValueKind.Array) detail.Add("only " + string.Join(",", only.EnumerateArray()));
            return (target, detail.Count > 0 ? string.Join(", ", detail) : null);
        }
        catch (Exception e) when (e is JsonException or IOException or InvalidOperationException or NotSupportedException)
        {
            return (action is "save" or "resurrect" or "kill" ? null : "(unreadable request)", null);
        }
    }

    private static string? Str(JsonElement e, string name) => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        await _system.ConfigureAwait(false);
        _stop.Dispose();
        _trail.Dispose();
    }
}
