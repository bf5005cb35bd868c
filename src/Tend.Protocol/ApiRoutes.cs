namespace Tend.Api;

/// <summary>The control API's routes, shared by the daemon (server) and the CLI (client).</summary>
public static class ApiRoutes
{
    public const string Ping = "/v1/ping";
    /// <summary>GET: <see cref="DoctorReport"/>, what this host and daemon can enforce.</summary>
    public const string Doctor = "/v1/doctor";
    public const string List = "/v1/list";
    /// <summary>GET: the supervision tree (tend tree).</summary>
    public const string Tree = "/v1/tree";
    /// <summary>GET /v1/apps/{name}: describe.</summary>
    public const string App = "/v1/apps/";
    /// <summary>GET ?target=all|NAME|NAME#i|ID: <see cref="InstanceEnvironmentInfo"/>[], each instance's environment (tend env). Socket only.</summary>
    public const string Env = "/v1/env";
    /// <summary>GET ?app=NAME (optional): <see cref="AppHistory"/>[], each app's CPU and memory over the last minutes (the dashboard's charts).</summary>
    public const string History = "/v1/history";
    public const string Start = "/v1/start";
    public const string Stop = "/v1/stop";
    public const string Restart = "/v1/restart";
    public const string Delete = "/v1/delete";
    public const string Reset = "/v1/reset";
    public const string Flush = "/v1/flush";
    /// <summary>POST <see cref="TargetRequest"/>: the instances' log files opened again (after an outside rotation).</summary>
    public const string ReopenLogs = "/v1/reopen-logs";
    public const string Signal = "/v1/signal";
    /// <summary>POST <see cref="ReloadRequest"/>: rolling replacement of an app's (or every app's) instances.</summary>
    public const string Reload = "/v1/reload";
    /// <summary>POST <see cref="DeployRequest"/>: blue-green or canary.</summary>
    public const string Deploy = "/v1/deploy";
    /// <summary>POST <see cref="ScaleRequest"/>.</summary>
    public const string Scale = "/v1/scale";
    public const string Save = "/v1/save";
    public const string Resurrect = "/v1/resurrect";
    /// <summary>Stop every app, then the daemon exits.</summary>
    public const string Kill = "/v1/kill";
    public const string Audit = "/v1/audit";
    /// <summary>GET: <see cref="AlertsInfo"/>, the active and recent alerts (docs/alerts.md).</summary>
    public const string Alerts = "/v1/alerts";
    /// <summary>POST <see cref="DiagRequest"/> → <see cref="DiagArtifactInfo"/>; GET → <see cref="DiagListInfo"/>; DELETE /v1/diag/{id}.</summary>
    public const string Diag = "/v1/diag";
    /// <summary>GET → <see cref="JobInfo"/>[] (docs/jobs.md); GET /v1/jobs/{name} → <see cref="JobInfo"/>; POST /v1/jobs/{name}/run?wait=true → <see cref="JobRunInfo"/>.</summary>
    public const string Jobs = "/v1/jobs";
    public const string AuditVerify = "/v1/audit/verify";
    public const string Upgrade = "/v1/daemon/upgrade";
    /// <summary>GET ?target=all&amp;lines=20&amp;follow=true&amp;stream=out|err|both → application/x-ndjson of LogLineDto.</summary>
    public const string Logs = "/v1/logs";
    /// <summary>GET ?after=SEQ&amp;follow=true → application/x-ndjson of TendEvent (what `tend events` reads).</summary>
    public const string Events = "/v1/events";
    /// <summary>GET ?after=SEQ (or Last-Event-ID) → text/event-stream of TendEvent; on the socket, and on TCP under the dashboard's access policy.</summary>
    public const string EventStream = "/events";
    // The health endpoints: served on the health listener (TCP, see docs/health.md) and on the socket.
    /// <summary>GET: <see cref="HealthReport"/>; 503 when an app marked critical has no ready instance.</summary>
    public const string Health = "/health";
    /// <summary>GET: 200 when every app that should run has all its instances ready, else 503.</summary>
    public const string Ready = "/ready";
    /// <summary>GET: 200 while the daemon answers.</summary>
    public const string Live = "/live";
    /// <summary>Prometheus text exposition (docs/metrics.md); also on the health listener.</summary>
    public const string Metrics = "/metrics";
    /// <summary>GET /apps/{name}/health: 200 with at least one ready instance, else 503 (404 for no such app).</summary>
    public const string AppHealthPrefix = "/apps/";

    /// <summary>Where the health listener binds unless TEND_HEALTH or --health says otherwise ("tend" on a phone keypad).</summary>
    public const string DefaultHealthAddress = "127.0.0.1:8363";

    /// <summary>The socket file inside TEND_HOME.</summary>
    public const string SocketFileName = "tend.sock";

    /// <summary>$TEND_HOME, or ~/.tend.</summary>
    public static string ResolveHome()
    {
        string? home = Environment.GetEnvironmentVariable("TEND_HOME");
        if (string.IsNullOrEmpty(home))
            home = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".tend");
        return Path.GetFullPath(home);
    }
}
