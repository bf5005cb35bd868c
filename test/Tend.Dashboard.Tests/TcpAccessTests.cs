using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Text.Json;
using Tend.Api;
using Tend.Dashboard.Tests.Support;

namespace Tend.Dashboard.Tests;

/// <summary>
/// The TCP listener's access policy (docs/dashboard.md), with HttpClient against a real daemon:
/// what answers without a token, the route allowlist, the Host, Origin and content-type checks,
/// the bearer token, and the non-loopback rule.
/// </summary>
public sealed class TcpAccessTests
{
    private static async Task<string> ErrorOf(HttpResponseMessage response) =>
        JsonSerializer.Deserialize(await response.Content.ReadAsStringAsync(), TendJsonContext.Default.ErrorResponse)!.Error;

    [Fact]
    public async Task Loopback_NoToken_DashboardAndAllowedApiAnswer_OtherRoutesAre404()
    {
        await using var daemon = await DashboardDaemon.StartAsync();
        using HttpClient http = DashboardDaemon.Client();

        using (var page = await http.GetAsync(daemon.Url + "/"))
        {
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
            Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
            Assert.Contains("no-cache", page.Headers.CacheControl?.ToString());
            Assert.NotNull(page.Headers.ETag);
            Assert.Contains("default-src 'none'", page.Headers.GetValues("Content-Security-Policy").Single());
            // Revalidation with the ETag answers 304, not the page again.
            using var again = new HttpRequestMessage(HttpMethod.Get, daemon.Url + "/");
            again.Headers.IfNoneMatch.Add(page.Headers.ETag!);
            Assert.Equal(HttpStatusCode.NotModified, (await http.SendAsync(again)).StatusCode);
        }
        using (var head = await http.SendAsync(new HttpRequestMessage(HttpMethod.Head, daemon.Url + "/")))
        {
            Assert.Equal(HttpStatusCode.OK, head.StatusCode);
            Assert.Equal("text/html", head.Content.Headers.ContentType?.MediaType);
        }
        using (var js = await http.GetAsync(daemon.Url + "/dashboard.js"))
            Assert.Equal("text/javascript", js.Content.Headers.ContentType?.MediaType);
        using (var css = await http.GetAsync(daemon.Url + "/dashboard.css"))
            Assert.Equal("text/css", css.Content.Headers.ContentType?.MediaType);

        foreach (string get in new[] { "/v1/ping", "/v1/list", "/v1/tree", "/v1/apps/web", "/v1/history", "/v1/history?app=web", "/v1/events", "/v1/logs?target=web&lines=5", "/health", "/metrics" })
        {
            using var r = await http.GetAsync(daemon.Url + get);
            Assert.True(r.StatusCode == HttpStatusCode.OK, $"GET {get}: {(int)r.StatusCode} {await r.Content.ReadAsStringAsync()}");
        }

        // Never over TCP, whatever the caller: these stay on the unix socket.
        foreach (string post in new[] { "/v1/kill", "/v1/start", "/v1/delete", "/v1/signal", "/v1/save", "/v1/resurrect", "/v1/deploy", "/v1/flush", "/v1/reset" })
        {
            using var r = await http.PostAsync(daemon.Url + post, DashboardDaemon.Json("""{"target":"all"}"""));
            Assert.True(r.StatusCode == HttpStatusCode.NotFound, $"POST {post}: {(int)r.StatusCode}");
            Assert.Contains("unix socket", await ErrorOf(r));
        }
        // The server-sent event stream too (for clients other than the page): a stream, so headers only.
        using (var sse = await http.GetAsync(daemon.Url + "/events", HttpCompletionOption.ResponseHeadersRead))
        {
            Assert.Equal(HttpStatusCode.OK, sse.StatusCode);
            Assert.Equal("text/event-stream", sse.Content.Headers.ContentType?.MediaType);
        }
        using (var deep = await http.GetAsync(daemon.Url + "/v1/apps/web/extra"))
            Assert.Equal(HttpStatusCode.NotFound, deep.StatusCode);

        Assert.True((await daemon.Home.ListAsync()).All(i => i.Status == "online"), "a refused request changed something");
        Assert.True(daemon.Home.DaemonPid is int pid && Tend.Tests.Support.ProcFs.IsRunning(pid), "POST /v1/kill over TCP stopped the daemon");
    }

    [Fact]
    public async Task Loopback_NoToken_ForeignHostHeader_Refused_HealthStillAnswers()
    {
        await using var daemon = await DashboardDaemon.StartAsync();
        using HttpClient http = DashboardDaemon.Client();

        async Task<HttpResponseMessage> GetWithHost(string path, string host)
        {
            var request = new HttpRequestMessage(HttpMethod.Get, daemon.Url + path);
            request.Headers.Host = host;
            return await http.SendAsync(request);
        }

        // What a DNS-rebinding page sends: its own name, resolved to 127.0.0.1.
        using (var rebound = await GetWithHost("/v1/list", "attacker.example:" + new Uri(daemon.Url).Port))
        {
            Assert.Equal(HttpStatusCode.Forbidden, rebound.StatusCode);
            Assert.Contains("DNS rebinding", await ErrorOf(rebound));
        }
        using (var page = await GetWithHost("/", "attacker.example"))
            Assert.Equal(HttpStatusCode.Forbidden, page.StatusCode);
        using (var local = await GetWithHost("/v1/list", "localhost:" + new Uri(daemon.Url).Port))
            Assert.Equal(HttpStatusCode.OK, local.StatusCode);
        // Load balancers and Prometheus may use any name for the health routes.
        using (var health = await GetWithHost("/metrics", "tend.internal.example"))
            Assert.Equal(HttpStatusCode.OK, health.StatusCode);
    }

    [RootFact]
    public async Task Loopback_NoToken_AnotherUser_Refused_HealthStillAnswers()
    {
        await using var daemon = await DashboardDaemon.StartAsync();

        // curl as nobody: a second user of the machine, on the same loopback.
        async Task<(string Code, string Body)> CurlAsNobody(string path)
        {
            var psi = new System.Diagnostics.ProcessStartInfo("setpriv")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (string a in new[] { "--reuid=65534", "--regid=65534", "--clear-groups", "curl", "-s", "-m", "20", "-w", "\n%{http_code}", daemon.Url + path })
                psi.ArgumentList.Add(a);
            using var curl = System.Diagnostics.Process.Start(psi)!;
            string output = await curl.StandardOutput.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await curl.WaitForExitAsync(timeout.Token);
            int newline = output.LastIndexOf('\n');
            return (output[(newline + 1)..], output[..Math.Max(newline, 0)]);
        }

        (string code, string body) = await CurlAsNobody("/v1/list");
        Assert.Equal("403", code);
        Assert.Contains("another user (uid 65534)", body);
        Assert.Equal("403", (await CurlAsNobody("/")).Code);
        Assert.Equal("200", (await CurlAsNobody("/metrics")).Code);
        Assert.Equal("200", (await CurlAsNobody("/live")).Code);
        // The daemon's own user (this test) is served.
        using HttpClient http = DashboardDaemon.Client();
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(daemon.Url + "/v1/list")).StatusCode);
    }

    /// <summary>Needs root, to act as a second user (setpriv); skipped otherwise.</summary>
    private sealed class RootFactAttribute : FactAttribute
    {
        public RootFactAttribute()
        {
            if (!Environment.IsPrivilegedProcess) Skip = "needs root to connect as another user (setpriv)";
            else if (!File.Exists("/usr/bin/curl") || !File.Exists("/usr/bin/setpriv")) Skip = "needs curl and setpriv";
        }
    }

    [Fact]
    public async Task Actions_NeedJsonAndTheirOwnOrigin()
    {
        await using var daemon = await DashboardDaemon.StartAsync();
        using HttpClient http = DashboardDaemon.Client();
        int pid = (await daemon.Home.ListAsync()).Single(i => i.Name == "worker").Pid!.Value;

        // A cross-site form post: text/plain, no preflight.
        using (var form = await http.PostAsync(daemon.Url + "/v1/stop", new StringContent("""{"target":"worker"}""")))
        {
            Assert.Equal(HttpStatusCode.UnsupportedMediaType, form.StatusCode);
            Assert.Contains("application/json", await ErrorOf(form));
        }
        using (var foreign = new HttpRequestMessage(HttpMethod.Post, daemon.Url + "/v1/stop") { Content = DashboardDaemon.Json("""{"target":"worker"}""") })
        {
            foreign.Headers.Add("Origin", "http://attacker.example");
            using var r = await http.SendAsync(foreign);
            Assert.Equal(HttpStatusCode.Forbidden, r.StatusCode);
            Assert.Contains("Origin", await ErrorOf(r));
        }
        Assert.Equal(pid, (await daemon.Home.ListAsync()).Single(i => i.Name == "worker").Pid);

        using (var own = new HttpRequestMessage(HttpMethod.Post, daemon.Url + "/v1/stop") { Content = DashboardDaemon.Json("""{"target":"worker"}""") })
        {
            own.Headers.Add("Origin", daemon.Url);
            using var r = await http.SendAsync(own);
            Assert.True(r.IsSuccessStatusCode, await r.Content.ReadAsStringAsync());
        }
        Assert.Equal("stopped", (await daemon.Home.ListAsync()).Single(i => i.Name == "worker").Status);
    }

    [Fact]
    public async Task Token_RequiredForApiOnLoopbackToo_PageAndHealthWithout()
    {
        const string token = "t0ken-for-tests-5f2c";
        await using var daemon = await DashboardDaemon.StartAsync(token: token);
        using HttpClient anonymous = DashboardDaemon.Client();
        using HttpClient wrong = DashboardDaemon.Client("not-the-token");
        using HttpClient right = DashboardDaemon.Client(token);

        using (var r = await anonymous.GetAsync(daemon.Url + "/v1/list"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, r.StatusCode);
            Assert.Equal("Bearer", r.Headers.WwwAuthenticate.Single().Scheme);
            Assert.Contains("bearer token", await ErrorOf(r));
        }
        Assert.Equal(HttpStatusCode.Unauthorized, (await wrong.GetAsync(daemon.Url + "/v1/list")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.PostAsync(daemon.Url + "/v1/stop", DashboardDaemon.Json("""{"target":"all"}"""))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await right.GetAsync(daemon.Url + "/v1/list")).StatusCode);
        using (var sse = await anonymous.GetAsync(daemon.Url + "/events", HttpCompletionOption.ResponseHeadersRead))
            Assert.Equal(HttpStatusCode.Unauthorized, sse.StatusCode);
        using (var sse = await right.GetAsync(daemon.Url + "/events", HttpCompletionOption.ResponseHeadersRead))
            Assert.Equal(HttpStatusCode.OK, sse.StatusCode);
        // Still never over TCP, token or not.
        Assert.Equal(HttpStatusCode.NotFound, (await right.PostAsync(daemon.Url + "/v1/kill", DashboardDaemon.Json("{}"))).StatusCode);

        // The page must load to ask for the token; it holds no data. Health needs none.
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync(daemon.Url + "/")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync(daemon.Url + "/health")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync(daemon.Url + "/metrics")).StatusCode);

        // The token is the daemon's, not the apps': none of them inherits it.
        int pid = (await daemon.Home.ListAsync()).First().Pid!.Value;
        Assert.DoesNotContain(token, await File.ReadAllTextAsync($"/proc/{pid}/environ"));
        Assert.DoesNotContain(token, await File.ReadAllTextAsync(Path.Combine(daemon.Home.Dir, "daemon.log")));
    }

    [Fact]
    public async Task TokenFromEnvironment_Enforced_AndNoAppInheritsIt()
    {
        const string token = "env-t0ken-33e0";
        await using var daemon = await DashboardDaemon.StartAsync(token: token, tokenInEnvironment: true);
        using HttpClient anonymous = DashboardDaemon.Client();
        using HttpClient right = DashboardDaemon.Client(token);

        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync(daemon.Url + "/v1/list")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await right.GetAsync(daemon.Url + "/v1/list")).StatusCode);
        // (The daemon's own /proc/PID/environ keeps the block it was started with, whatever it unsets.)
        foreach (int pid in (await daemon.Home.ListAsync()).Select(i => i.Pid!.Value))
            Assert.DoesNotContain("TEND_TOKEN=", await File.ReadAllTextAsync($"/proc/{pid}/environ"));
    }

    [Fact]
    public async Task EmptyTokenFile_DaemonRefusesToStart_AndSaysWhyInItsLog()
    {
        await using var home = new Tend.Tests.Support.TendHome();
        string empty = Path.Combine(home.Dir, "token");
        await File.WriteAllTextAsync(empty, "\n");

        var result = await home.RunAsync(["ping"], new Dictionary<string, string> { ["TEND_TOKEN_FILE"] = empty });

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains($"token file {empty} is empty", result.Stderr);
        Assert.Null(home.DaemonPid is int pid && Tend.Tests.Support.ProcFs.IsRunning(pid) ? pid : null);
    }

    [Fact]
    public async Task NonLoopback_NoToken_OnlyHealthAnswers_WithTokenTheApiToo()
    {
        IPAddress external = NonLoopbackAddress();

        await using (var open = await DashboardDaemon.StartAsync(listen: "0.0.0.0:0"))
        {
            using HttpClient http = DashboardDaemon.Client();
            string remote = open.UrlAt(external.ToString());
            foreach (string health in new[] { "/health", "/ready", "/live", "/metrics", "/apps/web/health" })
            {
                using var r = await http.GetAsync(remote + health);
                Assert.True(r.StatusCode is HttpStatusCode.OK or HttpStatusCode.ServiceUnavailable, $"{health} via {external}: {(int)r.StatusCode}");
            }
            foreach (string dashboard in new[] { "/", "/v1/list", "/v1/apps/web", "/v1/ping" })
            {
                using var r = await http.GetAsync(remote + dashboard);
                Assert.Equal(HttpStatusCode.Forbidden, r.StatusCode);
                Assert.Contains("loopback", await ErrorOf(r));
            }
            using (var stop = await http.PostAsync(remote + "/v1/stop", DashboardDaemon.Json("""{"target":"all"}""")))
                Assert.Equal(HttpStatusCode.Forbidden, stop.StatusCode);
            Assert.True((await open.Home.ListAsync()).All(i => i.Status == "online"));
            // The same listener, reached on loopback, serves the dashboard.
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(open.UrlAt("127.0.0.1") + "/v1/list")).StatusCode);
        }

        const string token = "remote-t0ken-91ab";
        await using var locked = await DashboardDaemon.StartAsync(token: token, listen: "0.0.0.0:0");
        string url = locked.UrlAt(external.ToString());
        using HttpClient anonymous = DashboardDaemon.Client();
        using HttpClient authorized = DashboardDaemon.Client(token);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync(url + "/v1/list")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync(url + "/metrics")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await authorized.GetAsync(url + "/v1/list")).StatusCode);
    }

    /// <summary>An IPv4 address of this machine that is not loopback (the eth0 address in CI containers).</summary>
    private static IPAddress NonLoopbackAddress()
    {
        IPAddress? found = NetworkInterface.GetAllNetworkInterfaces()
            .Where(n => n.OperationalStatus == OperationalStatus.Up && n.NetworkInterfaceType != NetworkInterfaceType.Loopback)
            .SelectMany(n => n.GetIPProperties().UnicastAddresses)
            .Select(a => a.Address)
            .FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork && !IPAddress.IsLoopback(a));
        Assert.False(found is null, "this machine has no non-loopback IPv4 address to test the non-loopback rule with");
        return found!;
    }
}
