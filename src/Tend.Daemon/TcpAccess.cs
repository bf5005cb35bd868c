using System.Net;
using System.Security.Cryptography;
using System.Text;
using Tend.Api;
using Tend.Hashing;

namespace Tend.Daemon;

/// <summary>
/// Who may do what over the TCP listener (the unix socket is not affected: its file mode keeps
/// other users out, and it serves the whole API). docs/dashboard.md is the user-facing version.
/// <list type="number">
/// <item>The health routes (/health, /ready, /live, /metrics, /apps/{name}/health) answer anyone:
/// load balancers, Kubernetes and Prometheus reach them by any name, with no token.</item>
/// <item>Everything else is the dashboard: its static files and an allowlist of API routes — reads
/// (ping, list, tree, apps/{name}, history, logs, events as NDJSON and as server-sent events) and four actions (restart, stop, reload,
/// scale). Start, delete, kill, signal, save and the rest are never served over TCP.</item>
/// <item>With a token configured, every dashboard request but the static files needs
/// <c>Authorization: Bearer TOKEN</c>, on loopback too (another user of the machine can reach
/// 127.0.0.1). Without one, the dashboard answers on loopback connections only, only from the
/// daemon's own user or root (<see cref="LoopbackPeer"/>: the socket's owner, as the kernel
/// reports it), and only for a Host header that is an IP literal or localhost: a web page whose
/// own name was re-pointed at 127.0.0.1 (DNS rebinding) sends its own name and is refused.</item>
/// <item>An action (POST) needs a JSON content type and, when the browser sends an Origin, the
/// daemon's own: a form or a cross-site fetch without CORS can send neither, and we answer no
/// CORS preflight.</item>
/// </list>
/// </summary>
internal sealed class TcpAccess
{
    private static readonly HashSet<string> s_getRoutes =
        [ApiRoutes.Ping, ApiRoutes.List, ApiRoutes.Tree, ApiRoutes.History, ApiRoutes.Logs, ApiRoutes.Events, ApiRoutes.EventStream, ApiRoutes.Alerts];
    private static readonly HashSet<string> s_postRoutes = [ApiRoutes.Restart, ApiRoutes.Stop, ApiRoutes.Reload, ApiRoutes.Scale];

    private static readonly uint s_daemonUid = Tend.Identity.ProcessIdentity.EffectiveUserId;

    private readonly byte[]? _tokenHash;

    public TcpAccess(string? token)
    {
        _tokenHash = token is null ? null : Sha256.Hash(Encoding.UTF8.GetBytes(token));
    }

    public bool HasToken => _tokenHash is not null;

    /// <summary>What the audit trail records for the token: the first 6 bytes of its SHA-256, never the token.</summary>
    public string? TokenId => _tokenHash is null ? null : "sha256:" + Convert.ToHexStringLower(_tokenHash.AsSpan(0, 6));

    /// <summary>A refusal: status code and the JSON error to send.</summary>
    public sealed record Refusal(int Status, string Error);

    /// <summary>Null when the request may go on.</summary>
    public Refusal? Check(HttpRequest request, IPEndPoint remote, IPEndPoint local)
    {
        PathString path = request.Path;
        if (HealthEndpoints.IsHealthPath(path)) return null;

        bool isStatic = (HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method)) && DashboardEndpoints.IsAsset(path);
        bool isApi = IsAllowedApi(request.Method, path);
        if (!isStatic && !isApi)
            return new Refusal(404, $"not found: over TCP the daemon serves the health routes, the dashboard and its API; {request.Method} {path} is only on the unix socket (use the tend CLI)");

        if (_tokenHash is null)
        {
            if (!IPAddress.IsLoopback(remote.Address) || !IPAddress.IsLoopback(local.Address))
                return new Refusal(403, "the dashboard and its API answer on a loopback address only, unless the daemon has a token (--token-file or TEND_TOKEN_FILE); here only /health, /ready, /live and /metrics answer");
            if (!IsLocalHost(request.Host))
                return new Refusal(403, $"Host \"{request.Host}\" refused: without a token the dashboard answers only to an IP address or localhost (DNS rebinding protection)");
            // Loopback is open to every user of the machine; the unix socket is not. Without a
            // token, the dashboard is the daemon's user's (and root's), as the socket is.
            uint? owner = LoopbackPeer.OwnerOf(remote, local);
            if (owner is null)
                return new Refusal(403, "cannot tell which user opened this connection, and without a token the dashboard serves only the daemon's own user: configure a token (--token-file or TEND_TOKEN_FILE)");
            if (owner != 0 && owner != s_daemonUid)
                return new Refusal(403, $"this connection comes from another user (uid {owner}); without a token the dashboard serves only the daemon's own user (uid {s_daemonUid}): configure a token (--token-file or TEND_TOKEN_FILE) to share it");
        }
        else if (!isStatic && !TokenMatches(request.Headers.Authorization.ToString()))
        {
            return new Refusal(401, "a bearer token is required: send Authorization: Bearer TOKEN (the token the daemon was started with)");
        }

        if (HttpMethods.IsPost(request.Method))
        {
            if (request.ContentType is not string type || !type.StartsWith("application/json", StringComparison.OrdinalIgnoreCase))
                return new Refusal(415, "an action needs Content-Type: application/json");
            string origin = request.Headers.Origin.ToString();
            if (origin.Length > 0 && !string.Equals(origin, $"{request.Scheme}://{request.Host}", StringComparison.OrdinalIgnoreCase))
                return new Refusal(403, $"Origin \"{origin}\" refused: actions are accepted from the dashboard's own origin only");
        }
        return null;
    }

    private static bool IsAllowedApi(string method, PathString path)
    {
        string value = path.Value ?? "";
        if (HttpMethods.IsGet(method))
        {
            if (s_getRoutes.Contains(value)) return true;
            // /v1/apps/{name}: one segment, no deeper path.
            return value.StartsWith(ApiRoutes.App, StringComparison.Ordinal) && value.Length > ApiRoutes.App.Length
                && value.IndexOf('/', ApiRoutes.App.Length) < 0;
        }
        return HttpMethods.IsPost(method) && s_postRoutes.Contains(value);
    }

    /// <summary>localhost, or an IPv4 / bracketed IPv6 literal, with or without a port.</summary>
    internal static bool IsLocalHost(HostString host)
    {
        if (!host.HasValue) return false;
        string name = host.Host;
        if (string.Equals(name, "localhost", StringComparison.OrdinalIgnoreCase)) return true;
        if (name.StartsWith('[') && name.EndsWith(']')) name = name[1..^1];
        return IPAddress.TryParse(name, out IPAddress? ip) && (name.Contains(':') || name.Count(c => c == '.') == 3);
    }

    private bool TokenMatches(string authorization)
    {
        const string scheme = "Bearer ";
        if (!authorization.StartsWith(scheme, StringComparison.OrdinalIgnoreCase)) return false;
        // Compare hashes: equal lengths, so the comparison's time says nothing about the token's length or prefix.
        byte[] given = Sha256.Hash(Encoding.UTF8.GetBytes(authorization[scheme.Length..].Trim()));
        return CryptographicOperations.FixedTimeEquals(given, _tokenHash);
    }

    /// <summary>
    /// The token from --token-file / TEND_TOKEN_FILE (a file holding it; surrounding whitespace
    /// ignored) or TEND_TOKEN. Null with neither; an error text for an unreadable or empty file.
    /// TEND_TOKEN is removed from the daemon's environment once read, so nothing it starts inherits it.
    /// </summary>
    public static string? ReadToken(string? tokenFile, out string? token)
    {
        token = null;
        string? fromEnv = Environment.GetEnvironmentVariable("TEND_TOKEN");
        Environment.SetEnvironmentVariable("TEND_TOKEN", null);
        tokenFile ??= Environment.GetEnvironmentVariable("TEND_TOKEN_FILE") is { Length: > 0 } f ? f : null;
        if (tokenFile is not null)
        {
            try { token = File.ReadAllText(tokenFile).Trim(); }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                return $"token file {tokenFile}: {ex.Message}";
            }
            if (token.Length == 0) { token = null; return $"token file {tokenFile} is empty"; }
            return null;
        }
        if (fromEnv is { Length: > 0 }) token = fromEnv.Trim();
        return null;
    }
}
