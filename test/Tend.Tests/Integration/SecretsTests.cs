using Tend.Api;
using Tend.Security;
using Tend.Tests.Support;

namespace Tend.Tests.Integration;

/// <summary>Secret-looking environment values reach the process but are masked wherever Tend shows the spec.</summary>
public sealed class SecretsTests : IAsyncLifetime
{
    private readonly TendHome _home = new();

    public Task InitializeAsync() => Task.CompletedTask;
    public async Task DisposeAsync() => await _home.DisposeAsync();

    [Fact]
    public async Task ProbeUrlPassword_MaskedInDescribeEventsAndTheDaemonLog()
    {
        int port = FreePorts.Next(); // nothing listens: the probe fails and says so everywhere
        string config = _home.WriteConfig($"""
            apps:
              web:
                cmd: {TendHome.Child}
                args: [--sleep]
                ready: {"{"} http: "http://probeuser:s3cr3t@127.0.0.1:{port}/", interval: 1s, failure_threshold: 1 {"}"}
                live: {"{"} http: "http://u:pa%2Fss@127.0.0.1:{port}/alive" {"}"}
            """);
        await _home.OkAsync("start", config);
        AppInfo app = await Eventually.ReturnsAsync(() => _home.DescribeAsync("web"),
            a => a.Instances.Single().Probes?.First(p => p.Role == "ready").Checks >= 2, "a few failed readiness checks");
        Assert.Contains("probeuser:********@", app.Ready);
        Assert.Contains("http://probeuser:********@127.0.0.1", app.Instances.Single().Probes!.First(p => p.Role == "ready").Check);
        string all = string.Join("\n",
            (await _home.OkAsync("describe", "web")).Stdout,
            (await _home.OkAsync("describe", "web", "--json")).Stdout,
            (await _home.OkAsync("events", "--no-follow", "--json")).Stdout,
            (await _home.OkAsync("events", "--no-follow")).Stdout,
            (await _home.OkAsync("list", "--json")).Stdout,
            await File.ReadAllTextAsync(Path.Combine(_home.Dir, "daemon.log")));
        Assert.DoesNotContain("s3cr3t", all);
        Assert.DoesNotContain("pa%2Fss", all);

        // A URL that does not parse is refused without echoing its password.
        string bad = _home.WriteConfig("apps:\n  x:\n    run: sleep 1\n    ready: { http: \"http://u:pa/ss@127.0.0.1:1/\" }\n", "bad.yaml");
        CliResult refused = await _home.RunAsync("start", bad);
        Assert.Equal(2, refused.ExitCode);
        Assert.Contains("percent-encoded", refused.Stderr);
        Assert.DoesNotContain("pa/ss", refused.Stderr);
    }

    [Fact]
    public async Task Describe_SecretEnv_MaskedInApiAndText_RealInTheProcess()
    {
        string config = _home.WriteConfig($"""
            apps:
              web:
                cmd: {TendHome.Child}
                args: [--sleep]
                env: {"{"} DB_PASSWORD: hunter2, DATABASE_URL: "postgres://app:s3cr3t@db/shop", PORT: "8080" {"}"}
            """);
        await _home.OkAsync("start", config);

        AppInfo app = await _home.DescribeAsync("web");
        Assert.Equal(SecretMask.Mask, app.Env["DB_PASSWORD"]);
        Assert.Equal("postgres://app:********@db/shop", app.Env["DATABASE_URL"]);
        Assert.Equal("8080", app.Env["PORT"]);
        CliResult text = await _home.OkAsync("describe", "web");
        Assert.DoesNotContain("hunter2", text.Stdout);
        Assert.DoesNotContain("s3cr3t", text.Stdout);
        Assert.Contains("DB_PASSWORD=********", text.Stdout);

        int pid = (await _home.ListAsync()).Single().Pid!.Value;
        string environ = await File.ReadAllTextAsync($"/proc/{pid}/environ");
        Assert.Contains("DB_PASSWORD=hunter2\0", environ);
        Assert.DoesNotContain("hunter2", await File.ReadAllTextAsync(Path.Combine(_home.Dir, "daemon.log")));
    }

    [Fact]
    public async Task DaemonLog_SecretEnvAndProbeUrlPassword_NeverWritten_ThroughTheLifecycle()
    {
        string config = _home.WriteConfig($"""
            apps:
              web:
                cmd: {TendHome.Child}
                args: [--sleep]
                env: {"{"} API_TOKEN: tok-hunter2, DATABASE_URL: "postgres://app:s3cr3t@db/shop" {"}"}
                ready: {"{"} http: "http://probe:pr0besecret@127.0.0.1:1/health", interval: 200ms {"}"}
            """);
        await _home.OkAsync("start", config);
        await _home.OkAsync("restart", "web");
        await _home.OkAsync("stop", "web");
        AppInfo app = await _home.DescribeAsync("web");
        Assert.DoesNotContain("pr0besecret", app.Ready);

        string log = await File.ReadAllTextAsync(Path.Combine(_home.Dir, "daemon.log"));
        Assert.Contains("web#0", log); // the lifecycle was logged...
        Assert.DoesNotContain("hunter2", log); // ...without the secrets
        Assert.DoesNotContain("s3cr3t", log);
        Assert.DoesNotContain("pr0besecret", log);
    }
}
