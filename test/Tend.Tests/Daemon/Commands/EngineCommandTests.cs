using System.Diagnostics;
using Tend.Api;
using Tend.Cli;
using Tend.Config.Import;
using Tend.Tests.Support;

namespace Tend.Tests.Daemon.Commands;

/// <summary>
/// The commands the CLI hands to the daemon's binary (EngineHandoff → `tend-daemon --command NAME JSON`):
/// the two sides agree, the hand-off keeps the pid (what `tend run` as a container's PID 1 needs), and
/// the binary refuses what `tend` would never write.
/// </summary>
public sealed class EngineCommandTests : IAsyncLifetime
{
    private readonly TendHome _home = new();

    public Task InitializeAsync() => Task.CompletedTask;
    public async Task DisposeAsync() => await _home.DisposeAsync();

    [Fact]
    public void TheCliOffersTheKindsTheImportersRead() =>
        Assert.Equal(Importers.Kinds, EngineCommands.ImportKinds);

    [Theory]
    [InlineData("ecosystem.config.js", "module.exports = { apps: [{ name: 'a', script: 'a.js' }] }")]
    [InlineData("pm2.json", "{\"apps\": [{\"name\": \"a\", \"script\": \"a.js\"}]}")]
    [InlineData("apps.yaml", "apps:\n  - name: a\n    script: a.js\n")]
    [InlineData("list.json", "[{\"name\": \"a\", \"script\": \"a.js\"}]")]
    [InlineData("compose.yaml", "processes:\n  web:\n    command: sleep 100\n")]
    [InlineData("process-compose.yml", "processes:\n  web:\n    command: sleep 100\n")]
    [InlineData("Procfile", "web: sleep 100\n")]
    [InlineData("supervisord.conf", "[program:web]\ncommand=sleep 100\n")]
    public void EveryFileTheImportersTakeForForeign_TheCliAsksThemAbout(string name, string text)
    {
        string path = Path.Combine(_home.Dir, name);
        File.WriteAllText(path, text);
        Assert.NotNull(Importers.Detect(path));
        Assert.True(ForeignConfig.MightBe(path), $"{name} is foreign to the importers, but the CLI would not ask them");
    }

    [Theory]
    [InlineData("tend.yaml", "apps:\n  web:\n    run: sleep 100\n")]
    [InlineData("prod.yml", "apps:\n  web:\n    run: sleep 100\n    instances: 2\n")]
    [InlineData("server.js", "require('http').createServer().listen(3000)")]
    public void ATendConfigOrAScript_NeedsNoImporter(string name, string text)
    {
        string path = Path.Combine(_home.Dir, name);
        File.WriteAllText(path, text);
        Assert.Null(Importers.Detect(path));
        Assert.False(ForeignConfig.MightBe(path));
    }

    [Fact]
    public void TheImportedConfigOfOneSource_KeepsOneName()
    {
        string a = ForeignConfig.GeneratedPath("/h", "/srv/a/ecosystem.config.js");
        Assert.Equal(a, ForeignConfig.GeneratedPath("/h", "/srv/a/ecosystem.config.js"));
        Assert.NotEqual(a, ForeignConfig.GeneratedPath("/h", "/srv/b/ecosystem.config.js"));
        Assert.StartsWith("/h/imported/ecosystem.config.js-", a);
    }

    [Fact]
    public async Task Run_IsTheSameProcessAsTheTendThatWasStarted()
    {
        // The app prints its parent's pid: under `tend run` that is the engine, which must be the very
        // process the caller started (a container runtime signals that pid).
        string config = Path.Combine(_home.Dir, "tend.yaml");
        File.WriteAllText(config, "apps:\n  once:\n    run: sh -c 'echo parent=$PPID'\n    restart: never\n");
        var psi = new ProcessStartInfo(TestPaths.Cli, ["run", config])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = _home.Dir,
        };
        psi.Environment["TEND_HOME"] = _home.Dir;
        using var process = Process.Start(psi)!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        string said = await stdout;
        Assert.True(process.ExitCode == 0, $"exit {process.ExitCode}: {await stderr}");
        Assert.Contains($"parent={process.Id}", said);
    }

    [Theory]
    [InlineData("bogus", "{}", "unknown command \"bogus\"")]
    [InlineData("run", "not json", "not what `tend` writes")]
    [InlineData("export", "null", "arguments are empty")]
    public async Task TheDaemonsBinary_RefusesACommandTendWouldNotWrite(string command, string json, string expected)
    {
        var psi = new ProcessStartInfo(TestPaths.Daemon, ["--command", command, json])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.Environment["TEND_HOME"] = _home.Dir;
        using var process = Process.Start(psi)!;
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.Equal(2, process.ExitCode);
        Assert.Contains(expected, await stderr);
        Assert.False(File.Exists(Path.Combine(_home.Dir, "tend.sock")), "a refused command must not start a daemon");
    }
}
