using Tend.Config;

namespace Tend.Tests.Config;

public sealed class FromCommandTests : IDisposable
{
    private readonly ConfigTestDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private List<string> Errors(string? name, string command, string[] args, int instances = 1, string? cwd = null)
    {
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.FromCommand(name, command, args, instances, cwd ?? _dir.Root, _dir.BaseEnv));
        return e.Errors.Select(x => x.ToString().Replace(_dir.Root, "ROOT")).ToList();
    }

    [Fact]
    public void FromCommand_Valid_BuildsSpecWithDefaults()
    {
        AppSpec spec = ConfigLoader.FromCommand("api", "node", ["server.js", "--port", "3000"], 2, _dir.Root, _dir.BaseEnv);

        var expected = new AppSpec
        {
            Name = "api",
            Command = "node",
            Args = new[] { "server.js", "--port", "3000" },
            Cwd = _dir.Root,
            Env = new EquatableDictionary(_dir.BaseEnv),
            Instances = 2,
        };
        Assert.Equal(expected, spec);
    }

    [Fact]
    public void FromCommand_OneStringWithSpaces_IsSplit()
    {
        AppSpec spec = ConfigLoader.FromCommand(null, "python3 -m 'http.server' 8000", [], 1, _dir.Root, _dir.BaseEnv);

        Assert.Equal(("python3", "python3", new EquatableArray<string>(["-m", "http.server", "8000"])), (spec.Name, spec.Command, spec.Args));
    }

    [Fact]
    public void FromCommand_NoName_DerivedFromScriptFileName()
    {
        _dir.Executable("bin dir/my server.sh");

        AppSpec spec = ConfigLoader.FromCommand(null, "./bin dir/my server.sh", [], 1, _dir.Root, _dir.BaseEnv);

        Assert.Equal(("my-server", "./bin dir/my server.sh"), (spec.Name, spec.Command));
    }

    [Theory]
    [InlineData("app.js", "node", "app")]
    [InlineData("worker.mjs", "node", "worker")]
    [InlineData("tools/job.py", "python3", "job")]
    public void FromCommand_AScriptThatIsNotExecutable_RunsUnderItsInterpreter_AsPm2Does(string script, string interpreter, string name)
    {
        string full = _dir.Write(script, "console.log(1)\n");

        AppSpec spec = ConfigLoader.FromCommand(null, script, ["--port", "3000"], 1, _dir.Root, _dir.BaseEnv);

        Assert.Equal((name, interpreter, new EquatableArray<string>([full, "--port", "3000"])), (spec.Name, spec.Command, spec.Args));
    }

    [Fact]
    public void FromCommand_AnExecutableScript_RunsAsItIs_ItsShebangDecides()
    {
        string full = _dir.Executable("serve.py");

        AppSpec bare = ConfigLoader.FromCommand(null, "serve.py", [], 1, _dir.Root, _dir.BaseEnv);
        AppSpec pathed = ConfigLoader.FromCommand(null, "./serve.py", [], 1, _dir.Root, _dir.BaseEnv);

        Assert.Equal(("serve", full), (bare.Name, bare.Command)); // a bare name found in cwd, not on PATH
        Assert.Equal(("serve", "./serve.py"), (pathed.Name, pathed.Command));
    }

    [Fact]
    public void FromCommand_AProgramOnPath_WinsOverAFileOfThatNameInCwd()
    {
        _dir.Write("node", "not this one\n");

        AppSpec spec = ConfigLoader.FromCommand(null, "node", ["app.js"], 1, _dir.Root, _dir.BaseEnv);

        Assert.Equal(("node", "node", new EquatableArray<string>(["app.js"])), (spec.Name, spec.Command, spec.Args));
    }

    [Fact]
    public void FromCommand_AScriptWhoseInterpreterIsMissing_NamesTheInterpreter()
    {
        _dir.Write("app.rb", "puts 1\n");

        Assert.Equal(["command: executable \"ruby\" not found on PATH (ROOT/bin)"], Errors(null, "app.rb", []));
    }

    [Fact]
    public void FromCommand_AMissingScript_SaysWhereItWasLookedFor()
    {
        Assert.Equal(["command: no file \"app.js\" in ROOT, and no executable of that name on PATH"], Errors(null, "app.js", []));
    }

    [Fact]
    public void FromCommand_ANonExecutableFileOfUnknownKind_IsNotExecutable()
    {
        _dir.Write("run.txt", "x\n");

        Assert.Equal(["command: \"ROOT/run.txt\" is not executable (chmod +x it, or run it through its interpreter)"], Errors(null, "./run.txt", []));
    }

    [Fact]
    public void FromCommand_Settings_AreReadAsTheKeysOfATendYaml()
    {
        // What `tend start --max-memory-restart 200M --no-autorestart --kill-timeout 3000 --watch --cron "0 3 * * *"` sends.
        var settings = new Dictionary<string, string>
        {
            ["max_memory"] = "200M",
            ["restart"] = "never",
            ["kill_timeout"] = "3000",
            ["restart_delay"] = "2s",
            ["max_restarts"] = "4",
            ["watch"] = "true",
            ["restart_schedule"] = "0 3 * * *",
        };

        AppSpec spec = ConfigLoader.FromCommand("api", "node", ["server.js"], 2, _dir.Root, _dir.BaseEnv, settings);

        Assert.Equal(("api", "node", new EquatableArray<string>(["server.js"]), 2), (spec.Name, spec.Command, spec.Args, spec.Instances));
        Assert.Equal(200L << 20, spec.MaxMemoryBytes);
        Assert.Equal(RestartPolicy.Never, spec.Restart);
        Assert.Equal(TimeSpan.FromSeconds(3), spec.KillTimeout); // a bare number is milliseconds, as PM2's flag
        Assert.Equal(TimeSpan.FromSeconds(2), spec.RestartDelay);
        Assert.Equal(4, spec.MaxRestarts);
        Assert.Equal([_dir.Root], spec.Watch?.Paths);
        Assert.Equal("0 3 * * *", spec.RestartSchedule?.Cron);
        Assert.Equal(new EquatableDictionary(_dir.BaseEnv), spec.Env);
    }

    [Fact]
    public void FromCommand_AnInterpreter_ComesFirst_WithItsArgs_AndTheNameIsTheScripts()
    {
        // `tend start --interpreter python3 --interpreter-args "-u -B" tools/job.py -- --once` (PM2's flags).
        _dir.Write("tools/job.py", "print(1)\n");

        AppSpec spec = ConfigLoader.FromCommand(null, "tools/job.py", ["--once"], 1, _dir.Root, _dir.BaseEnv,
            interpreter: "python3", interpreterArgs: ["-u", "-B"]);

        Assert.Equal(("job", "python3", new EquatableArray<string>(["-u", "-B", "tools/job.py", "--once"])), (spec.Name, spec.Command, spec.Args));
    }

    [Fact]
    public void FromCommand_InterpreterArgsAlone_GoToTheInterpreterTheExtensionChose()
    {
        // `tend start app.js --node-args "--max-old-space-size=64"`.
        string full = _dir.Write("app.js", "console.log(1)\n");

        AppSpec spec = ConfigLoader.FromCommand(null, "app.js", ["--port", "3000"], 1, _dir.Root, _dir.BaseEnv, interpreterArgs: ["--max-old-space-size=64"]);

        Assert.Equal(("app", "node", new EquatableArray<string>(["--max-old-space-size=64", full, "--port", "3000"])), (spec.Name, spec.Command, spec.Args));
    }

    [Fact]
    public void FromCommand_InterpreterArgsForAProgramThatRunsItself_OrAMissingInterpreter_AreErrors()
    {
        _dir.Executable("serve.sh");

        var args = Assert.Throws<ConfigException>(() => ConfigLoader.FromCommand(null, "./serve.sh", [], 1, _dir.Root, _dir.BaseEnv, interpreterArgs: ["-x"]));
        Assert.Equal("interpreter_args", Assert.Single(args.Errors).Field);
        var missing = Assert.Throws<ConfigException>(() => ConfigLoader.FromCommand(null, "./serve.sh", [], 1, _dir.Root, _dir.BaseEnv, interpreter: "ruby"));
        Assert.Equal("command: executable \"ruby\" not found on PATH (ROOT/bin)", Assert.Single(missing.Errors).ToString().Replace(_dir.Root, "ROOT"));
    }

    [Fact]
    public void FromCommand_SectionSettings_AreKeysOfTheirSection()
    {
        // What `tend start -o out.txt -e err.txt --time node server.js` sends: log.* keys, beside plain ones.
        string outFile = Path.Combine(_dir.Root, "out.txt"), errFile = Path.Combine(_dir.Root, "err.txt");
        var settings = new Dictionary<string, string>
        {
            ["log.out_file"] = outFile,
            ["log.err_file"] = errFile,
            ["log.timestamps"] = "true",
            ["max_memory"] = "200M",
            ["kill_timeout"] = "3000",
        };

        AppSpec spec = ConfigLoader.FromCommand("api", "node", ["server.js"], 1, _dir.Root, _dir.BaseEnv, settings);

        Assert.Equal((outFile, errFile, true), (spec.Logs.OutFile, spec.Logs.ErrFile, spec.Logs.Timestamps));
        Assert.Equal((200L << 20, TimeSpan.FromSeconds(3)), (spec.MaxMemoryBytes, spec.KillTimeout));
        // A list comes as a JSON array of strings: `--watch --ignore-watch "dist/ *.log"`.
        AppSpec watched = ConfigLoader.FromCommand("api", "node", ["server.js"], 1, _dir.Root, _dir.BaseEnv,
            new Dictionary<string, string> { ["watch.ignore"] = "[\"dist/\",\"*.log\"]" });
        Assert.Equal(["dist/", "*.log"], watched.Watch?.Ignore);
        Assert.Equal([_dir.Root], watched.Watch?.Paths);
        var bad = Assert.Throws<ConfigException>(() => ConfigLoader.FromCommand("api", "node", [], 1, _dir.Root, _dir.BaseEnv,
            new Dictionary<string, string> { ["log.max_size"] = "lots" }));
        Assert.StartsWith("log.max_size", Assert.Single(bad.Errors).Field);
    }

    [Fact]
    public void FromCommand_BadSettings_AreNamedByTheirKey()
    {
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.FromCommand("api", "node", [], 1, _dir.Root, _dir.BaseEnv,
            new Dictionary<string, string> { ["max_memory"] = "lots", ["restart_schedule"] = "every day" }));
        Assert.Equal(2, e.Errors.Count);
        Assert.All(e.Errors, x => Assert.Equal(("", 0), (x.File, x.Line)));
        Assert.Contains(e.Errors, x => x.Field == "max_memory");
        Assert.Contains(e.Errors, x => x.Field.StartsWith("restart_schedule", StringComparison.Ordinal));

        var taken = Assert.Throws<ConfigException>(() => ConfigLoader.FromCommand("api", "node", [], 1, _dir.Root, _dir.BaseEnv,
            new Dictionary<string, string> { ["cmd"] = "rm" }));
        Assert.Equal("cmd: is given by the command line itself, not as a setting", Assert.Single(taken.Errors).ToString());
    }

    [Fact]
    public void FromCommand_EmptyCommand_Rejected()
    {
        Assert.Equal(["command: empty command"], Errors("x", "  ", []));
    }

    [Fact]
    public void FromCommand_MissingExecutable_Rejected()
    {
        Assert.Equal(["command: executable \"nodex\" not found on PATH (ROOT/bin)"], Errors("x", "nodex", ["a.js"]));
    }

    [Fact]
    public void FromCommand_EverythingWrong_AllReported()
    {
        Assert.Equal(
            ["cwd: directory \"ROOT/nope\" does not exist", "name: \"all\" is reserved: commands use it to mean every app", "instances: expected a whole number ≥ 1, got 0"],
            Errors("all", "node", [], instances: 0, cwd: Path.Combine(_dir.Root, "nope")));
    }
}
