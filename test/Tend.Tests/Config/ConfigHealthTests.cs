using Tend.Config;
using Tend.Health;

namespace Tend.Tests.Config;

/// <summary>ready:, live:, watchdog: and critical: the specs they produce, and mistakes rejected with exact messages.</summary>
public sealed class ConfigHealthTests : IDisposable
{
    private readonly ConfigTestDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private void AssertErrors(string yaml, params string[] expected) => Assert.Equal(expected, _dir.Errors(yaml));

    private AppSpec LoadApp(string appYaml) => _dir.Load("apps:\n  web:\n    run: node web.js\n" + appYaml).Apps.Single();

    [Theory]
    [InlineData("listen: 127.0.0.1:28085", "ready: { http: \"http://127.0.0.1:28085/\" }", "http")]
    [InlineData("listen: 28085", "ready: { http: \"http://localhost:28085/health\" }", "http")]
    [InlineData("listen: [8443, 28085]", "ready: { tcp: \"127.0.0.1:28085\" }", "tcp")]
    [InlineData("listen: localhost:28085", "ready: { http: \"http://127.0.0.1:28085/\", interval: 1s }", "http")]
    public void Load_ReadyProbeOnTheAppsOwnListenAddress_Rejected(string listen, string ready, string kind)
    {
        string error = Assert.Single(_dir.Errors($"apps:\n  web:\n    run: node web.js\n    instances: 2\n    {listen}\n    {ready}\n"));
        Assert.StartsWith("ROOT/tend.yaml:6:", error);
        Assert.Contains($"apps.web.ready.{kind}:", error);
        Assert.Contains("every instance shares", error);
        Assert.Contains("notify: true", error);
        Assert.Contains("increment_var", error);
    }

    [Fact]
    public void Load_ReadyProbeOnTheProxysAddress_RejectedWithThePerInstancePort()
    {
        string error = Assert.Single(_dir.Errors("apps:\n  web:\n    run: node web.js\n    listen: 28085\n    listen_mode: proxy\n    ready: { http: \"http://127.0.0.1:28085/\" }\n"));
        Assert.Contains("${PORT}", error);
    }

    [Theory]
    [InlineData("listen: 127.0.0.1:28085", "ready: { http: \"http://127.0.0.1:28086/ready\" }")]   // another port
    [InlineData("listen: 127.0.0.2:28085", "ready: { http: \"http://127.0.0.1:28085/\" }")]        // another address
    [InlineData("listen: 28085", "ready: { http: \"http://127.0.0.1:${ADMIN_PORT}/ready\" }")]     // per instance
    [InlineData("listen: /run/web.sock", "ready: { tcp: \"127.0.0.1:28085\" }")]
    [InlineData("listen: 28085", "ready: { notify: true }")]
    public void Load_ReadyProbeThatReachesOneInstance_Accepted(string listen, string ready) =>
        Assert.NotNull(_dir.Load($"apps:\n  web:\n    run: node web.js\n    {listen}\n    {ready}\n").Apps.Single().Ready);

    [Fact]
    public void Probes_HttpAndTcpTargets_ExpandTheInstancesVariables()
    {
        var env = new Dictionary<string, string> { ["ADMIN_PORT"] = "9101" };
        Assert.Equal("http://127.0.0.1:9101/ready", ProbeTarget.Expand("http://127.0.0.1:${ADMIN_PORT}/ready", env));
        Assert.Equal("127.0.0.1:9101", ProbeTarget.Expand("127.0.0.1:${ADMIN_PORT}", env));
        Assert.Equal("127.0.0.1:", ProbeTarget.Expand("127.0.0.1:${UNSET}", env));
        Assert.Equal("http://x/$HOME", ProbeTarget.Expand("http://x/$HOME", env));
    }

    [Fact]
    public void Load_NoHealthKeys_ReadyOnSpawn()
    {
        AppSpec app = LoadApp("");
        Assert.Null(app.Ready);
        Assert.Null(app.Live);
        Assert.Null(app.Watchdog);
        Assert.False(app.Critical);
        Assert.False(app.UsesNotify);
    }

    [Fact]
    public void Load_ReadyNotify_WithTimeoutAndWatchdog()
    {
        AppSpec app = LoadApp("    ready: { notify: true, ready_timeout: 20s }\n    watchdog: 10s\n    critical: true\n");
        Assert.Equal(new ReadySpec { Notify = true, Timeout = TimeSpan.FromSeconds(20) }, app.Ready);
        Assert.Equal(TimeSpan.FromSeconds(10), app.Watchdog);
        Assert.True(app.Critical);
        Assert.True(app.UsesNotify);
    }

    [Fact]
    public void Load_ReadyHttpProbe_KubernetesDefaultsUnlessSet()
    {
        AppSpec app = LoadApp("    ready: { http: 'http://127.0.0.1:8080/healthz', interval: 2s, success_threshold: 2 }\n");
        Assert.Equal(new ReadySpec
        {
            Probe = new ProbeSpec
            {
                Kind = ProbeKind.Http, Target = "http://127.0.0.1:8080/healthz", Interval = TimeSpan.FromSeconds(2), SuccessThreshold = 2,
                InitialDelay = TimeSpan.Zero, Timeout = TimeSpan.FromSeconds(1), FailureThreshold = 3,
            },
            Timeout = TimeSpan.FromSeconds(90),
        }, app.Ready);
    }

    [Fact]
    public void Load_ProbeKinds_TcpExecLog()
    {
        Assert.Equal(new ProbeSpec { Kind = ProbeKind.Tcp, Target = "[::1]:5432" }, LoadApp("    live: { tcp: '[::1]:5432' }\n").Live);
        Assert.Equal(new ProbeSpec { Kind = ProbeKind.Exec, Target = "pg_isready -h 'my host'", Command = new[] { "pg_isready", "-h", "my host" } },
            LoadApp("    live: { exec: \"pg_isready -h 'my host'\" }\n").Live);
        Assert.Equal(new ProbeSpec { Kind = ProbeKind.Exec, Target = "sh -c exit 0", Command = new[] { "sh", "-c", "exit 0" } },
            LoadApp("    live: { exec: [sh, -c, exit 0] }\n").Live);
        Assert.Equal(new ProbeSpec { Kind = ProbeKind.Log, Target = "listening on \\d+" },
            LoadApp("    ready: { log: 'listening on \\d+', ready_timeout: infinity }\n").Ready!.Probe);
        Assert.Equal(Timeout.InfiniteTimeSpan, LoadApp("    ready: { log: x, ready_timeout: infinity }\n").Ready!.Timeout);
    }

    [Fact]
    public void Load_NodeIpc_ReadyMessageAndStopMessageOpenTheChannel()
    {
        AppSpec plain = LoadApp("");
        Assert.False(plain.NodeIpc);
        Assert.True(LoadApp("    ipc: node\n").NodeIpc);
        AppSpec pm2 = LoadApp("    ready: { message: ready, ready_timeout: 10s }\n    stop_message: shutdown\n");
        Assert.True(pm2.NodeIpc);
        Assert.Equal(new ReadySpec { Message = "ready", Timeout = TimeSpan.FromSeconds(10) }, pm2.Ready);
        Assert.Equal("shutdown", pm2.StopMessage);
    }

    [Fact]
    public void Load_BadNodeIpcSettings_ExactErrors()
    {
        AssertErrors("apps:\n  web:\n    run: node web.js\n    ipc: stdio\n",
            "ROOT/tend.yaml:4:10: apps.web.ipc: expected node (Node's IPC channel, process.send) or none, got \"stdio\"");
        AssertErrors("apps:\n  web:\n    run: node web.js\n    ipc: none\n    stop_message: shutdown\n",
            "ROOT/tend.yaml:4:10: apps.web.ipc: stop_message travels over Node's IPC channel; remove ipc: none");
        AssertErrors("apps:\n  web:\n    run: node web.js\n    ready: { notify: true, message: ready }\n",
            "ROOT/tend.yaml:4:28: apps.web.ready.message: set notify: true or message:, not both");
        AssertErrors("apps:\n  web:\n    run: node web.js\n    ready: { message: ready, http: 'http://127.0.0.1:1/' }\n",
            "ROOT/tend.yaml:4:30: apps.web.ready.http: set message: or a probe, not both");
        AssertErrors("apps:\n  web:\n    run: node web.js\n    ready: { message: '' }\n",
            "ROOT/tend.yaml:4:23: apps.web.ready.message: the message the app sends when it is ready, as process.send('ready'); not empty");
    }

    [Fact]
    public void Load_BadHealthSettings_ExactErrors()
    {
        AssertErrors("apps:\n  web:\n    run: node web.js\n    ready: { notify: true, http: 'http://x/' }\n",
            "ROOT/tend.yaml:4:28: apps.web.ready.http: set notify: true or a probe, not both");
        AssertErrors("apps:\n  web:\n    run: node web.js\n    ready: { notify: true, interval: 1s }\n",
            "ROOT/tend.yaml:4:28: apps.web.ready.interval: interval is a probe setting; with notify: true the app says READY=1 itself");
        AssertErrors("apps:\n  web:\n    run: node web.js\n    ready: { interval: 1s }\n",
            "ROOT/tend.yaml:4:12: apps.web.ready: no check; set one of http (a URL), tcp (host:port), exec (a command) or log (a pattern)");
        AssertErrors("apps:\n  web:\n    run: node web.js\n    live: { http: 'ftp://x/', tcp: 'localhost' }\n",
            "ROOT/tend.yaml:4:19: apps.web.live.http: \"ftp://x/\" is not an http:// or https:// URL (a password holding / ? # or @ must be percent-encoded: %2F %3F %23 %40)",
            "ROOT/tend.yaml:4:31: apps.web.live.tcp: a probe checks one thing; http is already set at line 4");
        AssertErrors("apps:\n  web:\n    run: node web.js\n    live: { tcp: 'localhost:99999' }\n",
            "ROOT/tend.yaml:4:18: apps.web.live.tcp: \"localhost:99999\" is not host:port (such as 127.0.0.1:5432 or [::1]:80)");
        AssertErrors("apps:\n  web:\n    run: node web.js\n    live: { notify: true }\n",
            "ROOT/tend.yaml:4:13: apps.web.live.notify: unknown key \"notify\"; for a liveness signal over NOTIFY_SOCKET, set watchdog: (a period) on the app",
            "ROOT/tend.yaml:4:11: apps.web.live: no check; set one of http (a URL), tcp (host:port), exec (a command) or log (a pattern)");
        AssertErrors("apps:\n  web:\n    run: node web.js\n    ready: { log: '([a-z' }\n",
            "ROOT/tend.yaml:4:19: apps.web.ready.log: not a valid regular expression: Invalid pattern '([a-z' at offset 5. Unterminated [] set.");
        AssertErrors("apps:\n  web:\n    run: node web.js\n    ready: { tcp: ':80', failure_threshold: 0, interval: 0s }\n",
            "ROOT/tend.yaml:4:19: apps.web.ready.tcp: \":80\" is not host:port (such as 127.0.0.1:5432 or [::1]:80)",
            "ROOT/tend.yaml:4:45: apps.web.ready.failure_threshold: expected a whole number 1..1000, got \"0\"",
            "ROOT/tend.yaml:4:58: apps.web.ready.interval: must be more than 0");
        AssertErrors("apps:\n  web:\n    run: node web.js\n    watchdog: 0s\n",
            "ROOT/tend.yaml:4:15: apps.web.watchdog: must be more than 0 (leave it out for no watchdog)");
    }
}
