using Tend.Config;
using Tend.Config.Import;

namespace Tend.Tests.Import;

/// <summary>
/// The importers on fixture files: what each key became, the report's exact list of what was not
/// mapped, and that the generated tend.yaml loads.
/// </summary>
public sealed class ImportTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("tend-import-").FullName;
    private static readonly Dictionary<string, string> s_env = new() { ["PATH"] = "/usr/local/bin:/usr/bin:/bin", ["HOME"] = "/root" };

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(string name, string text)
    {
        string path = Path.Combine(_dir, name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
        return path;
    }

    private static TendConfig Load(ImportResult r) => ConfigLoader.Parse(r.Yaml, Path.Combine(Path.GetDirectoryName(r.Source)!, "tend.yaml"), s_env);

    /// <summary>Seed 003's ecosystem file, as JSON (what node prints for the .js one).</summary>
    internal const string Seed003 = """
        {
          "apps": [{
            "name": "api",
            "script": "server.js",
            "instances": 4,
            "exec_mode": "cluster",
            "max_memory_restart": "300M",
            "exp_backoff_restart_delay": 100,
            "wait_ready": true,
            "listen_timeout": 10000,
            "kill_timeout": 5000,
            "merge_logs": true,
            "log_date_format": "YYYY-MM-DD HH:mm Z",
            "out_file": "./logs/out.log",
            "error_file": "./logs/err.log",
            "env": { "NODE_ENV": "development", "PORT": "3000" },
            "env_production": { "NODE_ENV": "production", "DB_URL": "postgres://db/prod" }
          }, {
            "name": "worker",
            "script": "worker.js",
            "node_args": "--max-old-space-size=256",
            "args": ["--queue", "jobs"],
            "autorestart": true,
            "watch": ["src"],
            "cron_restart": "0 3 * * *"
          }]
        }
        """;

    [Fact]
    public void Pm2_Seed003_MapsEveryKey_AndTheReportListsExactlyWhatIsNot()
    {
        string path = Write("ecosystem.json", Seed003);
        Directory.CreateDirectory(Path.Combine(_dir, "src"));

        ImportResult r = Importers.Import("pm2", path, null, new ImportOptions(Env: "production", BaseEnvironment: s_env));
        TendConfig config = Load(r);

        AppSpec api = config.Apps.Single(a => a.Name == "api");
        Assert.Equal("node", api.Command);
        Assert.Equal(["server.js"], api.Args);
        Assert.Equal(_dir, api.Cwd);
        Assert.Equal(4, api.Instances);
        Assert.Equal(["3000"], api.Listen);
        Assert.Equal(ListenMode.Proxy, api.ListenMode);
        Assert.Equal(300L * 1024 * 1024, api.MaxMemoryBytes);
        Assert.Equal(new BackoffSpec(TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(15), 1.5, 0), api.Backoff);
        Assert.Equal(TimeSpan.FromSeconds(5), api.KillTimeout);
        Assert.Equal(2, api.StopSignal); // SIGINT, PM2's
        Assert.Equal("production", api.Env["NODE_ENV"]);
        Assert.Equal("postgres://db/prod", api.Env["DB_URL"]);
        Assert.False(api.Env.ContainsKey("PORT")); // the proxy gives each instance its own
        Assert.True(api.NodeIpc); // NODE_APP_INSTANCE comes with Node's IPC channel, as under PM2
        Assert.Null(api.IncrementVar);
        Assert.Equal("ready", api.Ready?.Message);
        Assert.Equal(TimeSpan.FromSeconds(10), api.Ready?.Timeout); // listen_timeout
        Assert.Equal(Path.Combine(_dir, "logs", "out-{instance}.log"), api.Logs.OutFile);

        AppSpec worker = config.Apps.Single(a => a.Name == "worker");
        Assert.Equal("node", worker.Command);
        Assert.Equal(["--max-old-space-size=256", "worker.js", "--queue", "jobs"], worker.Args);
        Assert.Equal(TimeSpan.FromMilliseconds(1600), worker.KillTimeout);
        Assert.Equal(new RestartSchedule("0 3 * * *", null), worker.RestartSchedule);
        Assert.Equal([Path.Combine(_dir, "src")], worker.Watch?.Paths);
        Assert.Equal(WatchAction.Restart, worker.Watch?.Action);

        Assert.Equal(
        [
            "api: exec_mode: approximated: cluster: Tend's proxy listens on 3000 and each instance gets its own PORT (the app must listen on process.env.PORT)",
            "api: stop_signal: PM2 stops with SIGINT (Tend's default is SIGTERM): stop_signal: SIGINT",
            "api: wait_ready: approximated: ready: { message: ready }; PM2 went on as if ready after listen_timeout (10000ms), Tend counts that as a failed start",
            "api: merge_logs: approximated: one file per instance ({instance} in the path); `tend logs NAME` shows them merged",
            "api: log_date_format: not mapped: Tend's timestamps are ISO 8601 (log.timestamps)",
            "worker: env_production: not mapped: the app has no env_production",
            "worker: stop_signal: PM2 stops with SIGINT (Tend's default is SIGTERM): stop_signal: SIGINT",
            "worker: kill_timeout: PM2 waits 1,600 ms before SIGKILL (Tend's default is 5 s): kill_timeout: 1600ms",
            "worker: cron_restart: approximated: restart_schedule: a graceful reload, not a restart of every instance at once",
        ], r.Notes.Select(n => n.ToString()));
        Assert.Contains("# PM2 cluster mode: the instances share this port.", r.Yaml);
    }

    [Fact]
    public void Pm2_OneFileForOutAndError_KeepsOutFile_AndSaysWhereStderrGoes()
    {
        string path = Write("ecosystem.json", """
            { "apps": [{ "name": "app", "script": "app.js", "out_file": "./logs/app.log", "error_file": "logs/app.log" }] }
            """);

        ImportResult r = Importers.Import("pm2", path, null, new ImportOptions(BaseEnvironment: s_env));

        AppSpec app = Load(r).Apps.Single();
        Assert.Equal(Path.Combine(_dir, "logs", "app.log"), app.Logs.OutFile);
        Assert.Null(app.Logs.ErrFile);
        Assert.Contains(r.Notes, n => n is { App: "app", Key: "error_file", Kind: ImportNoteKind.Approximated } && n.Why.Contains("the same file as out_file", StringComparison.Ordinal));
    }

    [Fact]
    public void Systemd_AServiceUnit_MapsItsKeys_AndReportsTheRest()
    {
        string path = Write("api.service", $"""
            [Unit]
            Description=Example API
            After=network.target postgresql.service

            [Service]
            Type=notify
            User=nobody
            Group=nogroup
            WorkingDirectory=/tmp
            Environment="GREETING=hello world" PORT=8080
            Environment=MODE=prod
            EnvironmentFile=-/nonexistent/tend-import-test.env
            ExecStart=/bin/sh -c 'echo "$GREETING"; \
                exec sleep 600'
            ExecReload=/bin/kill -HUP $MAINPID
            Restart=on-failure
            RestartSec=2s
            TimeoutStopSec=1min 30s
            TimeoutStartSec=20
            WatchdogSec=30
            KillSignal=SIGINT
            LimitNOFILE=65536
            SuccessExitStatus=3 SIGUSR1
            SyslogIdentifier=%n
            ExecStartPre=/usr/bin/true

            [Install]
            WantedBy=multi-user.target
            """);

        ImportResult r = Importers.Import("systemd", path, null, new ImportOptions(BaseEnvironment: s_env));
        AppSpec api = Load(r).Apps.Single();

        Assert.Equal("api", api.Name);
        Assert.True(api.Shell); // $GREETING: systemd expanded it, sh does here
        Assert.Contains("echo \"$GREETING\"; exec sleep 600", string.Join(" ", api.Args));
        Assert.Equal("/tmp", api.Cwd);
        Assert.Equal(("hello world", "8080", "prod"), (api.Env["GREETING"], api.Env["PORT"], api.Env["MODE"]));
        Assert.True(api.Ready?.Notify);
        Assert.Equal(TimeSpan.FromSeconds(20), api.Ready?.Timeout);
        Assert.Equal(TimeSpan.FromSeconds(30), api.Watchdog);
        Assert.Equal(1, api.ReloadSignal); // SIGHUP
        Assert.Equal(RestartPolicy.OnFailure, api.Restart);
        Assert.Equal(TimeSpan.FromSeconds(2), api.RestartDelay);
        Assert.Equal(TimeSpan.FromSeconds(90), api.KillTimeout);
        Assert.Equal(2, api.StopSignal);
        Assert.Equal([3], api.StopExitCodes);
        Assert.Equal(("nobody", 65534u), (api.Isolation.UserName, api.Isolation.Uid));
        Assert.Equal(65536UL, Assert.Single(api.Isolation.Limits, l => l.Name == "nofile").Soft);
        Assert.Contains("# Example API", r.Yaml);

        string[] notes = [.. r.Notes.Select(n => n.ToString())];
        Assert.Contains(notes, n => n.StartsWith("api: EnvironmentFile: not mapped: /nonexistent/tend-import-test.env does not exist here", StringComparison.Ordinal));
        Assert.Contains(notes, n => n.StartsWith("api: After: not mapped: network.target, postgresql.service: depends_on: joins units imported together", StringComparison.Ordinal));
        Assert.Contains(notes, n => n.StartsWith("api: ExecStartPre: not mapped:", StringComparison.Ordinal));
        Assert.Contains(notes, n => n.StartsWith("api: SyslogIdentifier: not mapped:", StringComparison.Ordinal));
        Assert.Contains(notes, n => n.StartsWith("api: WantedBy: not mapped: `tend startup`", StringComparison.Ordinal));
        Assert.Contains(notes, n => n.StartsWith("api: SuccessExitStatus: not mapped: SIGUSR1", StringComparison.Ordinal));
        Assert.DoesNotContain(notes, n => n.Contains("Restart:", StringComparison.Ordinal) || n.Contains("TimeoutStopSec", StringComparison.Ordinal));
    }

    [Fact]
    public void Systemd_DropInsOverrideTheUnit_AndSystemdsDefaultsAreCarried()
    {
        string path = Write("worker@blue.service", "[Service]\nExecStart=/bin/sleep 100\nEnvironment=COLOR=%i\n");
        Write("worker@blue.service.d/10-override.conf", "[Service]\nExecStart=\nExecStart=/bin/sleep 200\nEnvironment=EXTRA=1\n");

        ImportResult r = Importers.Import("systemd", path, null, new ImportOptions(BaseEnvironment: s_env));
        AppSpec worker = Load(r).Apps.Single();

        Assert.Equal("worker-blue", worker.Name);
        Assert.Equal(("/bin/sleep", "200"), (worker.Command, worker.Args.Single()));
        Assert.Equal(("blue", "1"), (worker.Env["COLOR"], worker.Env["EXTRA"]));
        Assert.Equal(RestartPolicy.Never, worker.Restart);      // Restart=no
        Assert.Equal(TimeSpan.FromSeconds(90), worker.KillTimeout); // DefaultTimeoutStopSec
        Assert.Equal("/", worker.Cwd);
        Assert.Equal(
        [
            "worker-blue: WorkingDirectory: systemd's default working directory is /: cwd: /",
            "worker-blue: Restart: systemd's default is Restart=no: restart: never",
            "worker-blue: TimeoutStopSec: systemd waits 90 s before SIGKILL (Tend's default is 5 s): kill_timeout: 90s",
        ], r.Notes.Select(n => n.ToString()));
    }

    [Fact]
    public void Systemd_UnitsImportedTogether_TheirDependenciesBecomeDependsOn()
    {
        string db = Write("db.service", "[Service]\nType=notify\nExecStart=/bin/sleep 100\n");
        string cache = Write("cache.service", "[Service]\nExecStart=/bin/sleep 100\n");
        string api = Write("api.service", "[Unit]\nRequires=db.service\nAfter=db.service network.target\nWants=cache.service\n[Service]\nExecStart=/bin/sleep 200\n");

        ImportResult r = Importers.ImportSystemdUnits([api, cache, db], new ImportOptions(BaseEnvironment: s_env));
        TendConfig config = Load(r);

        Assert.Equal(["db", "cache", "api"], config.Apps.Select(a => a.Name)); // each after what it needs
        AppSpec app = config.Apps.Single(a => a.Name == "api");
        Assert.Equal([new Dependency("db", DependencyCondition.Ready), new Dependency("cache", DependencyCondition.Started)], app.DependsOn);
        string[] notes = [.. r.Notes.Select(n => n.ToString())];
        Assert.Contains("api: After: not mapped: network.target: depends_on: joins units imported together (tend import systemd a.service b.service)", notes);
        Assert.DoesNotContain(notes, n => n.Contains("db.service", StringComparison.Ordinal) || n.StartsWith("api: Requires", StringComparison.Ordinal));
    }

    [Fact]
    public void Systemd_UnitsThatNeedEachOther_AreRefused()
    {
        string a = Write("a.service", "[Unit]\nAfter=b.service\n[Service]\nExecStart=/bin/sleep 1\n");
        string b = Write("b.service", "[Unit]\nRequires=a.service\n[Service]\nExecStart=/bin/sleep 1\n");

        var e = Assert.Throws<ImportException>(() => Importers.ImportSystemdUnits([a, b], new ImportOptions(BaseEnvironment: s_env)));
        Assert.Contains("in a circle: a.service → b.service → a.service", e.Message);
    }

    [Theory]
    [InlineData("90", "90s")]
    [InlineData("1min 30s", "90s")]
    [InlineData("1h30min", "5400s")]
    [InlineData("500ms", "500ms")]
    [InlineData("2.5s", "2500ms")]
    [InlineData("infinity", "infinity")]
    [InlineData("soon", null)]
    [InlineData("5 fortnights", null)]
    public void Systemd_TimeSpans_AsTendDurations(string systemd, string? tend) => Assert.Equal(tend, SystemdImporter.DurationText(systemd));

    [Fact]
    public void Systemd_AUnitWithoutExecStart_CannotBeImported()
    {
        string path = Write("empty.service", "[Unit]\nDescription=nothing\n");

        var e = Assert.Throws<ImportException>(() => Importers.Import("systemd", path, null, new ImportOptions(BaseEnvironment: s_env)));
        Assert.Contains("no ExecStart=", e.Message);
        Assert.Equal("systemd", Importers.Detect(path));
    }

    [Fact]
    public void Pm2_WithoutEnv_OtherEnvSectionsAreReported_NotApplied()
    {
        string path = Write("ecosystem.json", Seed003);

        ImportResult r = Importers.Import("pm2", path, null, new ImportOptions(BaseEnvironment: s_env));

        Assert.Equal("development", Load(r).Apps.Single(a => a.Name == "api").Env["NODE_ENV"]);
        Assert.Contains(r.Notes, n => n is { App: "api", Key: "env_production", Kind: ImportNoteKind.Unmapped } && n.Why == "not selected (pass --env production to use it)");
    }

    [Fact]
    public void Procfile_FormationAndForemansPorts()
    {
        Write(".env", "GREETING=hi\n");
        string path = Write("Procfile", "# comment\nweb: bundle exec puma -p $PORT\nworker: ./bin/worker --queue default\nclock: ./bin/clock\n");

        ImportResult r = Importers.Import("procfile", path, null,
            new ImportOptions(Formation: new Dictionary<string, int> { ["web"] = 2, ["worker"] = 3, ["clock"] = 0 }, BaseEnvironment: s_env));
        TendConfig config = Load(r);

        Assert.Equal(["web", "worker"], config.Apps.Select(a => a.Name));
        AppSpec web = config.Apps[0], worker = config.Apps[1];
        Assert.Equal((2, new IncrementVar("PORT", 5000)), (web.Instances, web.IncrementVar));
        Assert.Equal((3, new IncrementVar("PORT", 5100)), (worker.Instances, worker.IncrementVar));
        Assert.True(web.Shell);
        Assert.Equal("hi", web.Env["GREETING"]);
        Assert.Equal(["clock: formation: not mapped: clock=0: left out, as foreman starts none"], r.Notes.Select(n => n.ToString()));
    }

    [Fact]
    public void Supervisord_NumprocsIncludesAndRestartPolicy()
    {
        string srv = Directory.CreateDirectory(Path.Combine(_dir, "srv")).FullName;
        Write("conf.d/worker.conf", $"""
            [program:worker]
            command=/usr/bin/python3 worker.py --n %(process_num)s
            numprocs=3
            process_name=%(program_name)s_%(process_num)02d
            directory={srv}
            autorestart=unexpected
            exitcodes=0,2
            startsecs=5
            startretries=7
            stopsignal=QUIT
            stopwaitsecs=20
            environment=A="1,2",B=plain
            stdout_logfile=/var/log/%(program_name)s.log
            """);
        string path = Write("supervisord.conf", """
            [supervisord]
            nodaemon=true

            [program:web]
            command=/usr/bin/env node server.js
            autorestart=true
            priority=1

            [include]
            files = conf.d/*.conf
            """);

        ImportResult r = Importers.Import("supervisord", path, null, new ImportOptions(BaseEnvironment: s_env));
        TendConfig config = Load(r);

        Assert.Equal(["web", "worker"], config.Apps.Select(a => a.Name));
        AppSpec worker = config.Apps.Single(a => a.Name == "worker");
        Assert.Equal((3, srv, RestartPolicy.OnFailure), (worker.Instances, worker.Cwd, worker.Restart));
        Assert.Equal([0, 2], worker.StopExitCodes);
        Assert.Equal((TimeSpan.FromSeconds(5), 7, 3, TimeSpan.FromSeconds(20)), (worker.MinUptime, worker.MaxRestarts, worker.StopSignal, worker.KillTimeout));
        Assert.Equal(("1,2", "plain"), (worker.Env["A"], worker.Env["B"]));
        Assert.Equal("/var/log/worker.log", worker.Logs.OutFile);
        Assert.Contains(r.Notes, n => n is { App: "worker", Key: "command", Kind: ImportNoteKind.Unmapped });
        Assert.Contains(r.Notes, n => n is { App: "worker", Key: "process_name", Kind: ImportNoteKind.Approximated });
        Assert.Equal(RestartPolicy.Always, config.Apps.Single(a => a.Name == "web").Restart);
    }

    [Fact]
    public void ProcessCompose_DependenciesProbesReplicasAvailability()
    {
        string path = Write("process-compose.yaml", """
            version: "0.5"
            environment: ["SHARED=1"]
            processes:
              db:
                command: ./db --port 5432
                readiness_probe:
                  exec: { command: "pg_isready -p 5432" }
                  period_seconds: 2
                  failure_threshold: 5
                availability: { restart: always, backoff_seconds: 2 }
              migrate:
                command: ./migrate
                depends_on: { db: { condition: process_healthy } }
              api:
                command: ./api
                replicas: 2
                depends_on:
                  migrate: { condition: process_completed_successfully }
                liveness_probe:
                  http_get: { host: 127.0.0.1, port: 8080, path: /healthz }
                availability: { restart: on_failure, max_restarts: 4 }
                shutdown: { signal: 2, timeout_seconds: 9 }
            """);

        ImportResult r = Importers.Import("process-compose", path, null, new ImportOptions(BaseEnvironment: s_env));
        TendConfig config = Load(r);

        AppSpec db = config.Apps.Single(a => a.Name == "db"), migrate = config.Apps.Single(a => a.Name == "migrate"), api = config.Apps.Single(a => a.Name == "api");
        Assert.Equal(RestartPolicy.Always, db.Restart);
        Assert.Equal(TimeSpan.FromSeconds(2), db.RestartDelay);
        Assert.NotNull(db.Ready);
        Assert.Equal([new Dependency("db", DependencyCondition.Ready)], migrate.DependsOn);
        Assert.Equal(RestartPolicy.Never, migrate.Restart);
        Assert.Equal([new Dependency("migrate", DependencyCondition.Completed)], api.DependsOn);
        Assert.Equal((2, RestartPolicy.OnFailure, 4, 2, TimeSpan.FromSeconds(9)), (api.Instances, api.Restart, api.MaxRestarts, api.StopSignal, api.KillTimeout));
        Assert.NotNull(api.Live);
        Assert.Equal("1", api.Env["SHARED"]);
        Assert.DoesNotContain(r.Notes, n => n.Kind == ImportNoteKind.Unmapped);
    }

    [Theory]
    [InlineData("ecosystem.config.js", "pm2")]
    [InlineData("ecosystem.config.mjs", "pm2")]
    [InlineData("app.config.cjs", "pm2")]
    [InlineData("server.js", null)]
    [InlineData("Procfile", "procfile")]
    [InlineData("Procfile.dev", "procfile")]
    [InlineData("process-compose.yaml", "process-compose")]
    [InlineData("tend.yaml", null)]
    [InlineData("pm2.yaml", "pm2")]
    [InlineData("compose.yml", "process-compose")]
    public void Detect_ByNameAndContent(string name, string? kind)
    {
        string text = name switch
        {
            // A tend.yaml whose words look like the others' (a channel named script, a processes app).
            "tend.yaml" => "apps:\n  processes: { run: x }\nchannels:\n  script: { command: [x] }\nalerts:\n  - { name: a, match: processes, on: crash, notify: script }\n",
            "pm2.yaml" => "apps:\n  - script: server.js\n",
            "compose.yml" => "processes:\n  web: { command: x }\n",
            _ => "x",
        };
        string path = Write(name, text);
        Assert.Equal(kind, Importers.Detect(path));
    }

    [Fact]
    public void Detect_SupervisordConf_ByItsProgramSection()
    {
        Assert.Equal("supervisord", Importers.Detect(Write("app.conf", "[program:x]\ncommand=/bin/true\n")));
        Assert.Null(Importers.Detect(Write("nginx.conf", "server { }\n")));
    }
}
