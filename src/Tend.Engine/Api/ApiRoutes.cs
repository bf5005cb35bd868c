namespace Tend.Api;

/// <summary>The control API's routes, shared by the daemon (server) and the CLI (client).</summary>
public static class ApiRoutes
{
    public const string Ping = "/v1/ping";
    public const string List = "/v1/list";
    /// <summary>GET: the supervision tree (tend tree).</summary>
    public const string Tree = "/v1/tree";
    /// <summary>GET /v1/apps/{name}: describe.</summary>
    public const string App = "/v1/apps/";
    public const string Start = "/v1/start";
    public const string Stop = "/v1/stop";
    public const string Restart = "/v1/restart";
    public const string Delete = "/v1/delete";
    public const string Reset = "/v1/reset";
    public const string Flush = "/v1/flush";
    public const string Signal = "/v1/signal";
    public const string Save = "/v1/save";
    public const string Resurrect = "/v1/resurrect";
    /// <summary>Stop every app, then the daemon exits.</summary>
    public const string Kill = "/v1/kill";
    /// <summary>GET ?target=all&amp;lines=20&amp;follow=true&amp;stream=out|err|both → application/x-ndjson of LogLineDto.</summary>
    public const string Logs = "/v1/logs";
    public const string Health = "/health";

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
