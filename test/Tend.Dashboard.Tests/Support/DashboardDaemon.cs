using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Tend.Api;
using Tend.Tests.Support;

namespace Tend.Dashboard.Tests.Support;

/// <summary>
/// A real daemon in its own TEND_HOME with a few test-child apps, and the URL of its TCP listener
/// (read from ping, since it binds port 0). Optionally started with a token file, or bound to
/// another address. Disposing it stops the daemon and everything it started.
/// </summary>
public sealed class DashboardDaemon : IAsyncDisposable
{
    public const string DefaultConfig = """
        apps:
          web:
            cmd: {child}
            args: [--sleep, --echo, "hello from web"]
            instances: 2
            env: { DB_PASSWORD: hunter2, STRIPE_API_KEY: sk-live-abc123, PORT: "8080" }
          worker:
            cmd: {child}
            args: [--sleep, --echo, "worker up"]
        """;

    private DashboardDaemon(TendHome home, string url, string? token)
    {
        Home = home;
        Url = url;
        Token = token;
    }

    public TendHome Home { get; }

    /// <summary>http://HOST:PORT of the TCP listener, no trailing slash.</summary>
    public string Url { get; }

    public string? Token { get; }

    public static async Task<DashboardDaemon> StartAsync(string config = DefaultConfig, string? token = null, string listen = "127.0.0.1:0", bool tokenInEnvironment = false)
    {
        var home = new TendHome();
        try
        {
            var env = new Dictionary<string, string> { ["TEND_HEALTH"] = listen };
            if (token is not null && tokenInEnvironment)
            {
                env["TEND_TOKEN"] = token;
            }
            else if (token is not null)
            {
                string tokenFile = Path.Combine(home.Dir, "token");
                await File.WriteAllTextAsync(tokenFile, token + "\n");
                env["TEND_TOKEN_FILE"] = tokenFile;
            }
            string path = home.WriteConfig(config.Replace("{child}", TendHome.Child, StringComparison.Ordinal));
            CliResult started = await home.RunAsync(["start", path], env);
            Assert.True(started.ExitCode == 0, $"tend start failed: {started}");
            CliResult ping = await home.OkAsync("ping", "--json");
            string? url = JsonSerializer.Deserialize(ping.Stdout, TendJsonContext.Default.PingInfo)?.HealthUrl;
            Assert.False(url is null, $"the daemon reports no TCP listener: {ping}");
            return new DashboardDaemon(home, url!.TrimEnd('/'), token);
        }
        catch
        {
            await home.DisposeAsync();
            throw;
        }
    }

    /// <summary>The URL with another host in it (the listener's port, reached at <paramref name="host"/>).</summary>
    public string UrlAt(string host) => $"http://{host}:{new Uri(Url).Port}";

    public static HttpClient Client(string? token = null)
    {
        var client = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        if (token is not null) client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    public static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    public ValueTask DisposeAsync() => Home.DisposeAsync();
}
