using Tend.Tests.Support;

namespace Tend.Tests.Integration;

/// <summary>`tend export kubernetes` as a user runs it: files written, the report on stderr, bad arguments refused with exit 2.</summary>
public sealed class ExportCliTests : IAsyncLifetime
{
    private readonly TendHome _home = new();

    public Task InitializeAsync() => Task.CompletedTask;
    public async Task DisposeAsync() => await _home.DisposeAsync();

    [Fact]
    public async Task Export_WritesOneFilePerApp_AndReportsWhatDiffers()
    {
        string config = _home.WriteConfig($$"""
            apps:
              web:
                cmd: {{TendHome.Child}}
                args: [--sleep]
                instances: 2
                listen: 9090
                listen_mode: proxy
                env: { API_TOKEN: abc, MODE: live }
            """);
        string dir = Path.Combine(_home.Dir, "k8s");

        CliResult r = await _home.OkAsync("export", "kubernetes", config, "--image", "web=registry.example.com/web:2", "-o", dir, "--kustomize", "--namespace", "prod");

        Assert.Equal(["kustomization.yaml", "web.yaml"], Directory.GetFiles(dir).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        string web = File.ReadAllText(Path.Combine(dir, "web.yaml"));
        Assert.Contains("image: registry.example.com/web:2", web);
        Assert.Contains("replicas: 2", web);
        Assert.DoesNotContain("abc\n", web.Split("kind: Secret")[0]); // the token is only in the Secret
        Assert.Contains("namespace: prod", File.ReadAllText(Path.Combine(dir, "kustomization.yaml")));
        Assert.Contains("web: env: API_TOKEN moved to the Secret web-secrets", r.Stderr);
        Assert.Contains($"wrote 2 file(s) to {dir}", r.Stderr);

        CliResult printed = await _home.OkAsync("export", "kubernetes", config);
        Assert.Contains("kind: Deployment", printed.Stdout);
        Assert.Contains("web: image: no --image web=REF", printed.Stderr);
    }

    [Fact]
    public async Task Export_BadArguments_ExitTwo_NamingThem()
    {
        string config = _home.WriteConfig($"apps:\n  web:\n    cmd: {TendHome.Child}\n");

        CliResult image = await _home.RunAsync("export", "kubernetes", config, "--image", "web");
        Assert.Equal(2, image.ExitCode);
        Assert.Contains("--image web: expected app=REF", image.Stderr);
        CliResult missing = await _home.RunAsync("export", "kubernetes", Path.Combine(_home.Dir, "nope.yaml"));
        Assert.Equal(2, missing.ExitCode);
        Assert.Contains("no such file", missing.Stderr);
        CliResult target = await _home.RunAsync("export", "nomad", config);
        Assert.NotEqual(0, target.ExitCode);
        string bad = _home.WriteConfig("apps:\n  web:\n    run: sleep 1\n    autoscale: { min: 5, max: 2 }\n", "bad.yaml");
        CliResult invalid = await _home.RunAsync("export", "kubernetes", bad);
        Assert.Equal(2, invalid.ExitCode);
        Assert.Contains("bad.yaml:4:", invalid.Stderr);
        Assert.Contains("min (5) is more than max (2)", invalid.Stderr);
    }
}
