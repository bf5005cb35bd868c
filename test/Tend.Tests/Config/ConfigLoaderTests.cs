using Tend.Config;

namespace Tend.Tests.Config;

public sealed class ConfigLoaderTests : IDisposable
{
    private readonly ConfigTestDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private AppSpec Spec(string name, string command, params string[] args) => new()
    {
        Name = name,
        Command = command,
        Args = args,
        Cwd = _dir.Root,
        Env = new EquatableDictionary(_dir.BaseEnv),
    };

    [Fact]
    public void Load_MinimalApp_UsesDefaults()
    {
        TendConfig config = _dir.Load("apps:\n  web:\n    run: node server.js --port 3000\n");

        Assert.Equal(new TendConfig(_dir.ConfigPath, new[] { Spec("web", "node", "server.js", "--port", "3000") }), config);
    }

    [Fact]
    public void Load_EveryKey_ProducesExactSpec()
    {
        Directory.CreateDirectory(Path.Combine(_dir.Root, "api"));
        _dir.Executable("api/start.sh");
        _dir.Write(".env", "# shared\nexport DB_URL=postgres://db/app\nPORT=3000\nGREETING=\"hello\\tworld\"\n");

        TendConfig config = _dir.Load("""
            version: 1
            apps:
              api:
                cmd: ./start.sh
                args: [--urls, "http://127.0.0.1:5000", 42]
                cwd: api
                env: { ASPNETCORE_ENVIRONMENT: Production, DEBUG: false, PORT: 4000 }
                env_file: .env
                instances: 4
                restart: on-failure
                max_restarts: 10
                min_uptime: 5s
                restart_delay: 250ms
                backoff: { initial: 200ms, max: 1m, multiplier: 1.5, jitter: 0 }
                stop_signal: INT
                kill_timeout: 1.5s
                stop_exit_codes: [0, 143]
                max_memory: 512M
                increment_var: PORT
                log:
                  out_file: logs/{app}-{instance}.out
                  err_file: /var/log/api.err
                  timestamps: false
                  format: json
                  max_size: 10MiB
                  max_files: 3
            """);

        var env = new Dictionary<string, string>(_dir.BaseEnv)
        {
            ["DB_URL"] = "postgres://db/app",
            ["PORT"] = "4000",
            ["GREETING"] = "hello\tworld",
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
            ["DEBUG"] = "false",
        };
        var expected = new AppSpec
        {
            Name = "api",
            Command = "./start.sh",
            Args = new[] { "--urls", "http://127.0.0.1:5000", "42" },
            Cwd = Path.Combine(_dir.Root, "api"),
            Env = new EquatableDictionary(env),
            Instances = 4,
            Restart = RestartPolicy.OnFailure,
            MaxRestarts = 10,
            MinUptime = TimeSpan.FromSeconds(5),
            RestartDelay = TimeSpan.FromMilliseconds(250),
            Backoff = new BackoffSpec(TimeSpan.FromMilliseconds(200), TimeSpan.FromMinutes(1), 1.5, 0),
            StopSignal = 2,
            KillTimeout = TimeSpan.FromMilliseconds(1500),
            StopExitCodes = new[] { 0, 143 },
            MaxMemoryBytes = 512L * 1024 * 1024,
            IncrementVar = new IncrementVar("PORT", 4000),
            Logs = new LogSpec(Path.Combine(_dir.Root, "logs/{app}-{instance}.out"), "/var/log/api.err", false, LogFormat.Json, 10L * 1024 * 1024, 3),
        };
        Assert.Equal(expected, Assert.Single(config.Apps));
    }

    [Fact]
    public void Load_Json_ProducesSameSpecsAsYaml()
    {
        const string Json = """
            {
            	"apps": {
            		"web": { "run": "node server.js", "instances": 2, "kill_timeout": 3000, "env": { "N": 1 } },
            		"worker": { "cmd": "python3", "args": ["-u", "worker.py"], "restart": "never" }
            	}
            }
            """;
        const string Yaml = """
            apps:
              web:
                run: node server.js
                instances: 2
                kill_timeout: 3s
                env:
                  N: "1"
              worker:
                cmd: python3
                args: [-u, worker.py]
                restart: never
            """;

        TendConfig fromJson = _dir.Load(Json, "tend.json");
        TendConfig fromYaml = _dir.Load(Yaml);

        Assert.Equal(["web", "worker"], fromJson.Apps.Select(a => a.Name));
        Assert.Equal(fromYaml.Apps, fromJson.Apps);
        Assert.Equal(TimeSpan.FromSeconds(3), fromJson.Apps[0].KillTimeout);
    }

    [Fact]
    public void Load_Json_ErrorsCarryLineAndColumn()
    {
        var errors = _dir.Errors("{\n  \"apps\": {\n    \"web\": { \"run\": \"node a.js\", \"instances\": -2 }\n  }\n}\n", "tend.json");

        Assert.Equal(["ROOT/tend.json:3:47: apps.web.instances: expected a whole number ≥ 1 or \"max\", got \"-2\""], errors);
    }

    [Fact]
    public void Load_AppsKeepDeclarationOrder()
    {
        TendConfig config = _dir.Load("apps:\n  zeta: { run: node z }\n  alpha: { run: node a }\n  mid: { run: node m }\n");

        Assert.Equal(["zeta", "alpha", "mid"], config.Apps.Select(a => a.Name));
    }

    [Fact]
    public void Load_ShellTrue_RunsThroughBinSh()
    {
        TendConfig config = _dir.Load("apps:\n  job:\n    run: echo $HOME | tr a-z A-Z > out.txt\n    shell: true\n");

        Assert.Equal(Spec("job", "/bin/sh", "-c", "echo $HOME | tr a-z A-Z > out.txt") with { Shell = true }, config.Apps[0]);
    }

    [Fact]
    public void Load_RunWithQuotes_SplitsLikeAShell()
    {
        TendConfig config = _dir.Load("""
            apps:
              web:
                run: node -e 'console.log("hi there")' "a \"b\" c" d\ e ''
            """);

        Assert.Equal(new[] { "-e", "console.log(\"hi there\")", "a \"b\" c", "d e", "" }, config.Apps[0].Args);
    }

    [Fact]
    public void Load_EnvLayers_BaseThenEnvFileThenEnv()
    {
        _dir.BaseEnv["A"] = "base";
        _dir.BaseEnv["B"] = "base";
        _dir.BaseEnv["C"] = "base";
        _dir.Write("one.env", "B=file\nC=file\n");

        TendConfig config = _dir.Load("apps:\n  web:\n    run: node a.js\n    env_file: one.env\n    env: { C: yaml }\n");

        EquatableDictionary env = config.Apps[0].Env;
        Assert.Equal(("base", "file", "yaml"), (env["A"], env["B"], env["C"]));
    }

    [Fact]
    public void Load_EnvFileFormats_AllParsed()
    {
        _dir.Write(".env", """
            # comment

            PLAIN=value with spaces   # trailing comment
            export EXPORTED=yes
            SINGLE='$literal \n' # comment
            DOUBLE="line\nnext \"q\" \$x"
            EMPTY=
            HASH=a#b
            SPACED = around
            """ + "\r\nCRLF=ok\r\n");

        TendConfig config = _dir.Load("apps:\n  web:\n    run: node a.js\n    env_file: .env\n");

        EquatableDictionary env = config.Apps[0].Env;
        Assert.Equal("value with spaces", env["PLAIN"]);
        Assert.Equal("yes", env["EXPORTED"]);
        Assert.Equal("ok", env["CRLF"]);
        Assert.Equal("", env["EMPTY"]);
        Assert.Equal("a#b", env["HASH"]);
        Assert.Equal("around", env["SPACED"]);
        Assert.Equal("line\nnext \"q\" $x", env["DOUBLE"]);
        Assert.Equal("$literal \\n", env["SINGLE"]);
    }

    [Fact]
    public void Load_InstancesMax_IsProcessorCount()
    {
        TendConfig config = _dir.Load("apps:\n  web: { run: node a.js, instances: max }\n");

        Assert.Equal(Environment.ProcessorCount, config.Apps[0].Instances);
    }

    [Fact]
    public void Load_BackoffFalse_MeansNoDelay()
    {
        TendConfig config = _dir.Load("apps:\n  web: { run: node a.js, backoff: false }\n");

        Assert.Equal(new BackoffSpec(TimeSpan.Zero, TimeSpan.Zero, 1, 0), config.Apps[0].Backoff);
    }

    [Fact]
    public void Load_PartialBackoff_KeepsOtherDefaults()
    {
        TendConfig config = _dir.Load("apps:\n  web: { run: node a.js, backoff: { max: 30s } }\n");

        Assert.Equal(BackoffSpec.Default with { Max = TimeSpan.FromSeconds(30) }, config.Apps[0].Backoff);
    }

    [Fact]
    public void Load_IncrementVarMap_UsesGivenStart()
    {
        TendConfig config = _dir.Load("apps:\n  web: { run: node a.js, increment_var: { name: PORT, start: 3000 } }\n");

        Assert.Equal(new IncrementVar("PORT", 3000), config.Apps[0].IncrementVar);
    }

    [Fact]
    public void Load_SingleExitCodeAndNumericSignal_Accepted()
    {
        TendConfig config = _dir.Load("apps:\n  web: { run: node a.js, stop_exit_codes: 3, stop_signal: 10, logs: { max_size: 1G } }\n");

        AppSpec app = config.Apps[0];
        Assert.Equal((new EquatableArray<int>([3]), 10, 1L << 30), (app.StopExitCodes, app.StopSignal, app.Logs.MaxSizeBytes));
    }

    [Fact]
    public void Load_CommandWithSlash_ResolvedAgainstCwd()
    {
        _dir.Executable("svc/bin/run");

        TendConfig config = _dir.Load("apps:\n  svc: { run: bin/run --flag, cwd: ./svc }\n");

        Assert.Equal(Spec("svc", "bin/run", "--flag") with { Cwd = Path.Combine(_dir.Root, "svc") }, config.Apps[0]);
    }

    [Fact]
    public void Load_BareCommand_SearchedOnTheAppsOwnPath()
    {
        string other = Path.Combine(_dir.Root, "other");
        _dir.Executable("other/tool");

        TendConfig config = _dir.Load($"apps:\n  t: {{ run: tool, env: {{ PATH: \"{other}\" }} }}\n");

        Assert.Equal("tool", config.Apps[0].Command);
    }

    [Fact]
    public void Load_NullValues_MeanDefaults()
    {
        TendConfig config = _dir.Load("apps:\n  web:\n    run: node a.js\n    instances:\n    log: ~\n    env:\n");

        Assert.Equal(Spec("web", "node", "a.js"), config.Apps[0]);
    }

    [Fact]
    public void Load_YamlAnchorsAndMergeKeys_Work()
    {
        TendConfig config = _dir.Load("""
            x-common: &common
              restart: never
              kill_timeout: 9s
            apps:
              a:
                <<: *common
                run: node a.js
              b:
                <<: *common
                run: node b.js
                restart: always
            """);

        Assert.Equal(
            [(RestartPolicy.Never, TimeSpan.FromSeconds(9)), (RestartPolicy.Always, TimeSpan.FromSeconds(9))],
            config.Apps.Select(a => (a.Restart, a.KillTimeout)));
    }

    [Fact]
    public void Parse_RelativePathsResolveAgainstTheGivenPath()
    {
        Directory.CreateDirectory(Path.Combine(_dir.Root, "work"));

        TendConfig config = ConfigLoader.Parse("apps:\n  w: { run: node a.js, cwd: work }\n", _dir.ConfigPath, _dir.BaseEnv);

        Assert.Equal(Path.Combine(_dir.Root, "work"), config.Apps[0].Cwd);
    }
}
