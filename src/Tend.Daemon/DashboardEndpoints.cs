using System.Collections.Concurrent;
using Microsoft.Net.Http.Headers;
using Tend.Hashing;

namespace Tend.Daemon;

/// <summary>
/// The web dashboard's files: hand-written HTML, CSS and JS embedded in this assembly (Dashboard/),
/// read from the assembly on first request and kept, so a daemon nobody browses never loads them.
/// They hold no data (everything comes from the API, behind <see cref="TcpAccess"/>), so they are
/// served without a token: the page has to load to ask for one. Cached with an ETag and
/// no-cache, so a browser revalidates and a new daemon version is picked up at once.
/// </summary>
internal static class DashboardEndpoints
{
    private sealed record Asset(byte[] Bytes, string ContentType, string ETag);

    // URL path → embedded file name and content type.
    private static readonly Dictionary<string, (string File, string Type)> s_assets = new(StringComparer.Ordinal)
    {
        ["/"] = ("index.html", "text/html; charset=utf-8"),
        ["/dashboard.css"] = ("dashboard.css", "text/css; charset=utf-8"),
        ["/dashboard.js"] = ("dashboard.js", "text/javascript; charset=utf-8"),
        ["/favicon.svg"] = ("favicon.svg", "image/svg+xml"),
    };

    private static readonly ConcurrentDictionary<string, Asset> s_loaded = new(StringComparer.Ordinal);

    // Scripts, styles and connections from the daemon itself only; no framing (clickjacking).
    private const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    public static bool IsAsset(PathString path) => path.Value is string p && s_assets.ContainsKey(p);

    public static void MapDashboard(this WebApplication app)
    {
        foreach (string path in s_assets.Keys)
            app.MapMethods(path, [HttpMethods.Get, HttpMethods.Head], (HttpContext context) => Serve(context, path)); // HEAD: link checkers, curl -I
    }

    private static IResult Serve(HttpContext context, string path)
    {
        Asset asset = s_loaded.GetOrAdd(path, Load);
        var headers = context.Response.Headers;
        headers.CacheControl = "no-cache";
        headers.ETag = asset.ETag;
        headers.XContentTypeOptions = "nosniff";
        headers["Referrer-Policy"] = "no-referrer";
        headers.ContentSecurityPolicy = ContentSecurityPolicy;
        headers.XFrameOptions = "DENY";
        if (context.Request.Headers.IfNoneMatch.Any(tag => tag == asset.ETag))
            return Results.StatusCode(StatusCodes.Status304NotModified);
        return Results.Bytes(asset.Bytes, asset.ContentType);
    }

    private static Asset Load(string path)
    {
        (string file, string type) = s_assets[path];
        using Stream stream = typeof(DashboardEndpoints).Assembly.GetManifestResourceStream("Dashboard/" + file)
            ?? throw new InvalidOperationException($"dashboard file {file} is not embedded in the daemon");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        byte[] bytes = copy.ToArray();
        string etag = new EntityTagHeaderValue("\"" + Convert.ToHexStringLower(Sha256.Hash(bytes).AsSpan(0, 8)) + "\"").Tag.ToString();
        return new Asset(bytes, type, etag);
    }
}
