using Tend.Api;
using Tend.Tests.Support;

namespace Tend.Tests.Integration;

/// <summary>
/// Another manager's file, run by Tend in one command (docs/import.md): `tend start ecosystem.config.js`
/// (CommonJS and ES module, evaluated by node), `tend import … -o tend.yaml` then start, a Procfile with
/// a formation, a supervisord.conf with numprocs, a process-compose.yaml with dependencies.
/// </summary>
public sealed class ImportStartTests : IAsyncLifetime
{
    private readonly TendHome _home = new();

    public Task InitializeAsync() => Task.CompletedTask;
    public async Task DisposeAsync() => await _home.DisposeAsync();

    private string Dir => _home.Dir;

    private string Write(string name, string text)
    {
        string path = Path.Combine(Dir, "project", name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
        return path;
    }

    private async Task<string> LogsAsync(string target) => (await _home.OkAsync("logs", target, "--no-follow", "--lines", "50")).Stdout;

    private const string Server = "console.log(`env=${process.env.NODE_ENV} instance=${process.env.NODE_APP_INSTANCE}`); setInterval(() => {}, 1000);\n";

    [Fact]
    public async Task Pm2EcosystemCjs_StartsAsIs_WithTheReport()
    {
        Write("server.js", Server);
        string eco = Write("ecosystem.config.js", """
            module.exports = {
              apps: [{ name: 'api', script: 'server.js', instances: 2, env: { NODE_ENV: 'development' }, env_production: { NODE_ENV: 'production' }, watch: true }],
            };
            """);

        CliResult start = await _home.OkAsync("start", eco);

        Assert.Contains("imported 1 app(s)", start.Stderr);
        Assert.Contains("api: stop_signal: PM2 stops with SIGINT", start.Stderr);
        InstanceInfo[] list = await _home.WaitForAsync(l => l.Count(i => i.Name == "api" && i.Status == "online") == 2, "api's two instances");
        await Eventually.ReturnsAsync(() => LogsAsync("api"), t => t.Contains("env=development instance=0") && t.Contains("env=development instance=1"), "both instances' output");
        AppInfo api = await _home.DescribeAsync("api");
        Assert.Equal("node", api.Command);
        Assert.Equal([Path.Combine(Dir, "project")], api.Watch?.Paths); // PM2's watch: true, the app's directory
    }

    [Fact]
    public async Task Pm2EcosystemStartedWithEnv_RunsThatEnv_AndEnvElsewhereIsAnError()
    {
        Write("server.js", Server);
        string eco = Write("ecosystem.config.js", """
            module.exports = {
              apps: [{ name: 'api', script: 'server.js', env: { NODE_ENV: 'development' }, env_production: { NODE_ENV: 'production' } }],
            };
            """);
        string tendYaml = Write("tend.yaml", "apps:\n  other:\n    run: sleep 1000\n");

        // As `pm2 start ecosystem.config.js --env production`.
        CliResult start = await _home.OkAsync("start", eco, "--env", "production");
        Assert.Contains("imported 1 app(s)", start.Stderr);
        Assert.DoesNotContain("env_production", start.Stderr); // selected, so not reported as left out
        Assert.Contains("--env production -o tend.yaml", start.Stderr);
        await Eventually.ReturnsAsync(
            async () => (await _home.OkAsync("logs", "api", "--nostream", "--lines", "50")).Stdout,
            t => t.Contains("env=production instance=0"), "the production env, read with PM2's --nostream");

        // --env means nothing to a tend.yaml or a command: refused before anything starts.
        CliResult onTendYaml = await _home.RunAsync("start", tendYaml, "--env", "production");
        Assert.Equal(2, onTendYaml.ExitCode);
        Assert.Contains("--env production selects env_production of a PM2 ecosystem file", onTendYaml.Stderr);
        CliResult onCommand = await _home.RunAsync("start", "--env", "production", "sleep", "1000");
        Assert.Equal(2, onCommand.ExitCode);
        CliResult badName = await _home.RunAsync("start", eco, "--env", "pro duction");
        Assert.Equal(2, badName.ExitCode);
        Assert.Contains("--env must name an env_NAME section", badName.Stderr);
        InstanceInfo[] list = await _home.ListAsync();
        Assert.Equal(["api"], list.Select(i => i.Name).Distinct());
        Assert.Equal("online", Assert.Single(list).Status);
    }

    [Fact]
    public async Task Pm2EcosystemEsm_ImportedWithEnv_ThenStarted()
    {
        Write("server.js", Server);
        string eco = Write("ecosystem.config.mjs", """
            export default {
              apps: [{ name: 'api', script: 'server.js', env: { NODE_ENV: 'development' }, env_production: { NODE_ENV: 'production' } }],
            };
            """);
        string output = Path.Combine(Dir, "project", "tend.yaml");

        CliResult imported = await _home.OkAsync("import", "pm2", eco, "--env", "production", "-o", output);
        Assert.Contains($"wrote {output}", imported.Stderr);
        Assert.Contains("NODE_ENV: production", File.ReadAllText(output));

        await _home.OkAsync("start", output);
        await Eventually.ReturnsAsync(() => LogsAsync("api"), t => t.Contains("env=production"), "the production env");
        CliResult again = await _home.RunAsync("import", "pm2", eco, "-o", output);
        Assert.Equal(2, again.ExitCode);
        Assert.Contains("--force replaces it", again.Stderr);
    }

    [Fact]
    public async Task Procfile_Formation_GivesEachInstanceForemansPort()
    {
        string procfile = Write("Procfile", "web: echo \"web on $PORT\"; exec sleep 600\nworker: echo \"worker on $PORT\"; exec sleep 600\n");
        string output = Path.Combine(Dir, "project", "tend.yaml");

        await _home.OkAsync("import", "procfile", procfile, "--formation", "web=2,worker=1", "-o", output);
        await _home.OkAsync("start", output);

        await _home.WaitForAsync(l => l.Count(i => i.Status == "online") == 3, "three instances");
        string logs = await Eventually.ReturnsAsync(() => LogsAsync("all"), t => t.Contains("web on 5001"), "the ports");
        Assert.Contains("web on 5000", logs);
        Assert.Contains("worker on 5100", logs);
    }

    [Fact]
    public async Task SupervisordConf_Numprocs_ThreeInstances()
    {
        string conf = Write("supervisord.conf", $"""
            [supervisord]
            nodaemon=true

            [program:worker]
            command={TendHome.Child} --sleep
            numprocs=3
            process_name=%(program_name)s_%(process_num)02d
            autorestart=true
            """);

        CliResult start = await _home.OkAsync("start", conf);

        Assert.Contains("worker: process_name: numprocs 3", start.Stderr);
        await _home.WaitForAsync(l => l.Count(i => i.Name == "worker" && i.Status == "online") == 3, "three workers");
    }

    [Fact]
    public async Task ProcessCompose_DependenciesHold()
    {
        string stamps = Path.Combine(Dir, "stamps");
        string compose = Write("process-compose.yaml", $$"""
            processes:
              migrate:
                command: "{{TendHome.Child}} --stamp {{stamps}} --exit-after 300ms"
              api:
                command: "{{TendHome.Child}} --stamp {{stamps}} --sleep"
                depends_on: { migrate: { condition: process_completed_successfully } }
                availability: { restart: always }
            """);

        await _home.OkAsync("start", compose);

        await _home.WaitForAsync(l => l.Single(i => i.Name == "api").Status == "online", "api online after the migration");
        // Online is at spawn; the child writes its stamp a moment later.
        string[] starts = await Eventually.ReturnsAsync(
            () => File.ReadAllLines(stamps).Where(l => l.Contains(" start ")).Select(l => l.Split(' ')[3]).ToArray(), s => s.Length == 2, "both start stamps");
        Assert.Equal(["migrate#0", "api#0"], starts);
    }

    [Fact]
    public async Task SystemdUnit_StartsAsIs_ReadyByNotify_WithItsEnvironment()
    {
        string unit = Write("greeter.service", $"""
            [Unit]
            Description=Greets, then says it is ready
            After=network.target

            [Service]
            Type=notify
            Environment=GREETING=hello-from-systemd
            ExecStart={TendHome.Child} --notify-ready-after 200ms --sleep
            Restart=always
            TimeoutStopSec=3
            """);

        CliResult start = await _home.OkAsync("start", unit);

        Assert.Contains("imported 1 app(s)", start.Stderr);
        Assert.Contains("greeter: After: network.target: depends_on:", start.Stderr);
        await _home.WaitForAsync(l => l.SingleOrDefault(i => i.Name == "greeter") is { Status: "online", Ready: true }, "greeter ready by READY=1");
        // The environment the process runs with, read from /proc by the daemon.
        Assert.Contains("\nGREETING=hello-from-systemd\n", (await _home.OkAsync("env", "greeter")).Stdout);
        AppInfo greeter = await _home.DescribeAsync("greeter");
        Assert.Equal(("always", 3000L), (greeter.Restart, greeter.KillTimeoutMs));
    }

    [Fact]
    public async Task SystemdUnitsStartedTogether_TheDependentStartsOnceItsDependencyIsReady()
    {
        string stamps = Path.Combine(Dir, "stamps");
        string db = Write("db.service", $"""
            [Service]
            Type=notify
            ExecStart={TendHome.Child} --stamp {stamps} --notify-ready-after 1s --sleep
            """);
        string api = Write("api.service", $"""
            [Unit]
            Requires=db.service
            After=db.service
            [Service]
            ExecStart={TendHome.Child} --stamp {stamps} --sleep
            """);
        string yaml = Path.Combine(Dir, "project", "tend.yaml");

        // api first: without its depends_on it would start first.
        CliResult import = await _home.RunAsync("import", "systemd", api, db, "-o", yaml);
        Assert.True(import.ExitCode == 0, import.ToString());
        Assert.Contains("depends_on: { db: ready }", File.ReadAllText(yaml));
        Assert.Equal(2, (await _home.RunAsync("import", "pm2", db, api)).ExitCode); // one file but for systemd
        // `tend start api.service db.service` imports them together on the way, as import did.
        CliResult start = await _home.OkAsync("start", api, db);
        Assert.Contains("imported 2 app(s)", start.Stderr);

        await _home.WaitForAsync(l => l.Count(i => i.Status == "online") == 2, "db and api online");
        AppInfo dependent = await _home.DescribeAsync("api");
        Assert.Contains(dependent.DependsOn ?? [], d => d.StartsWith("db", StringComparison.Ordinal));
        string[] starts = await Eventually.ReturnsAsync(
            () => File.ReadAllLines(stamps).Where(l => l.Contains(" start ")).Select(l => l.Split(' ')[3]).ToArray(), s => s.Length == 2, "both start stamps");
        Assert.Equal(["db#0", "api#0"], starts);
    }
}
