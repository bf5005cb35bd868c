using Tend.Config;

namespace Tend.Tests.Config;

/// <summary>Bad configs: every error names file:line:column and the field, and all of them are reported at once.</summary>
public sealed class ConfigLoaderErrorTests : IDisposable
{
    private readonly ConfigTestDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private void AssertErrors(string yaml, params string[] expected) => Assert.Equal(expected, _dir.Errors(yaml));

    [Fact]
    public void Load_UnknownKey_SuggestsNearest()
    {
        AssertErrors("apps:\n  web:\n    run: node a.js\n    instnaces: 2\n",
            "ROOT/tend.yaml:4:5: apps.web.instnaces: unknown key \"instnaces\"; did you mean \"instances\"?");
    }

    [Fact]
    public void Load_UnknownKeyFarFromAnything_NoSuggestion()
    {
        AssertErrors("apps:\n  web:\n    run: node a.js\n    colour: blue\n",
            "ROOT/tend.yaml:4:5: apps.web.colour: unknown key \"colour\"");
    }

    [Fact]
    public void Load_UnknownNestedKey_SuggestsNearest()
    {
        AssertErrors("apps:\n  web:\n    run: node a.js\n    log: { max-size: 1M }\n",
            "ROOT/tend.yaml:4:12: apps.web.log.max-size: unknown key \"max-size\"; did you mean \"max_size\"?");
    }

    [Fact]
    public void Load_UnknownTopLevelKey_SuggestsApps()
    {
        AssertErrors("aps:\n  web: { run: node a.js }\n",
            "ROOT/tend.yaml:1:1: aps: unknown key \"aps\"; did you mean \"apps\"?",
            "ROOT/tend.yaml:1:1: missing apps:; declare at least one app under it");
    }

    [Fact]
    public void Load_Pm2Key_GetsAHint()
    {
        AssertErrors("apps:\n  web:\n    script: app.js\n",
            "ROOT/tend.yaml:3:5: apps.web.script: unknown key \"script\"; Tend uses cmd (a program, with args) or run (a whole command line)",
            "ROOT/tend.yaml:2:3: apps.web: no command; set run (a command line) or cmd (a program, with args)");
    }

    [Fact]
    public void Load_DuplicateApp_NamesBothLines()
    {
        AssertErrors("apps:\n  web: { run: node a.js }\n  worker: { run: node w.js }\n  web: { run: node b.js }\n",
            "ROOT/tend.yaml:4:3: apps.web: duplicate app \"web\"; first defined at line 2");
    }

    [Fact]
    public void Load_DuplicateKeyInApp_NamesBothLines()
    {
        AssertErrors("apps:\n  web:\n    run: node a.js\n    instances: 2\n    instances: 3\n",
            "ROOT/tend.yaml:5:5: apps.web.instances: duplicate key \"instances\"; first defined at line 4");
    }

    [Fact]
    public void Load_NegativeInstances_Rejected()
    {
        AssertErrors("apps:\n  web:\n    run: node a.js\n    instances: -2\n",
            "ROOT/tend.yaml:4:16: apps.web.instances: expected a whole number ≥ 1 or \"max\", got \"-2\"");
    }

    [Fact]
    public void Load_NegativeMaxRestarts_Rejected()
    {
        AssertErrors("apps:\n  web: { run: node a.js, max_restarts: -1 }\n",
            "ROOT/tend.yaml:2:40: apps.web.max_restarts: expected a whole number ≥ 0, got \"-1\"");
    }

    [Fact]
    public void Load_UnknownSignal_SuggestsNearest()
    {
        AssertErrors("apps:\n  web:\n    run: node a.js\n    stop_signal: SIGTREM\n",
            "ROOT/tend.yaml:4:18: apps.web.stop_signal: unknown signal \"SIGTREM\"; did you mean \"SIGTERM\"?");
    }

    [Fact]
    public void Load_UnknownSignalWithoutPrefix_SuggestsNearest()
    {
        AssertErrors("apps:\n  web: { run: node a.js, stop_signal: usr3 }\n",
            "ROOT/tend.yaml:2:39: apps.web.stop_signal: unknown signal \"usr3\"; did you mean \"SIGUSR1\"?");
    }

    [Fact]
    public void Load_SignalNumberOutOfRange_Rejected()
    {
        AssertErrors("apps:\n  web: { run: node a.js, stop_signal: 99 }\n",
            "ROOT/tend.yaml:2:39: apps.web.stop_signal: unknown signal 99; Linux signal numbers are 1..64");
    }

    [Fact]
    public void Load_EmptyRun_Rejected()
    {
        AssertErrors("apps:\n  web:\n    run: \"  \"\n",
            "ROOT/tend.yaml:3:10: apps.web.run: empty command");
    }

    [Fact]
    public void Load_EmptyCmd_Rejected()
    {
        AssertErrors("apps:\n  web: { cmd: '' }\n",
            "ROOT/tend.yaml:2:15: apps.web.cmd: empty command");
    }

    [Fact]
    public void Load_AppWithoutCommand_Rejected()
    {
        AssertErrors("apps:\n  web:\n    instances: 2\n  db:\n",
            "ROOT/tend.yaml:2:3: apps.web: no command; set run (a command line) or cmd (a program, with args)",
            "ROOT/tend.yaml:4:3: apps.db: no command; set run (a command line) or cmd (a program, with args)");
    }

    [Fact]
    public void Load_MissingExecutableOnPath_ShowsPath()
    {
        AssertErrors("apps:\n  web:\n    run: nodex a.js\n",
            "ROOT/tend.yaml:3:10: apps.web.run: executable \"nodex\" not found on PATH (ROOT/bin)");
    }

    [Fact]
    public void Load_MissingRelativeExecutable_ShowsCwd()
    {
        AssertErrors("apps:\n  web:\n    cmd: ./start.sh\n",
            "ROOT/tend.yaml:3:10: apps.web.cmd: executable \"./start.sh\" not found in ROOT");
    }

    [Fact]
    public void Load_NotExecutable_SaysSo()
    {
        _dir.Executable("start.sh", executable: false);

        AssertErrors("apps:\n  web:\n    cmd: ./start.sh\n",
            "ROOT/tend.yaml:3:10: apps.web.cmd: \"ROOT/start.sh\" is not executable (chmod +x it, or run it through its interpreter)");
    }

    [Fact]
    public void Load_MissingCwd_Rejected()
    {
        AssertErrors("apps:\n  web:\n    run: node a.js\n    cwd: ./nope\n",
            "ROOT/tend.yaml:4:10: apps.web.cwd: directory \"ROOT/nope\" does not exist");
    }

    [Fact]
    public void Load_BadDuration_Rejected()
    {
        AssertErrors("apps:\n  web:\n    run: node a.js\n    kill_timeout: 10x\n",
            "ROOT/tend.yaml:4:19: apps.web.kill_timeout: expected a duration like 500ms, 10s, 2m or 1h, got \"10x\"");
    }

    [Fact]
    public void Load_BadSize_Rejected()
    {
        AssertErrors("apps:\n  web:\n    run: node a.js\n    max_memory: 12X\n",
            "ROOT/tend.yaml:4:17: apps.web.max_memory: expected a size like 512K, 200M or 1G, got \"12X\"");
    }

    [Fact]
    public void Load_BadEnvFileLine_NamesEnvFileAndLine()
    {
        _dir.Write(".env", "PORT=3000\n# fine\nthis is not an assignment\nNAME=\"unterminated\n");

        AssertErrors("apps:\n  web:\n    run: node a.js\n    env_file: .env\n",
            "ROOT/.env:3:1: apps.web.env_file: expected KEY=value",
            "ROOT/.env:4:6: apps.web.env_file: unterminated double quote (multi-line values are not supported)");
    }

    [Fact]
    public void Load_MissingEnvFile_Rejected()
    {
        AssertErrors("apps:\n  web:\n    run: node a.js\n    env_file: missing.env\n",
            "ROOT/tend.yaml:4:15: apps.web.env_file: env file \"ROOT/missing.env\" not found");
    }

    [Fact]
    public void Load_UnterminatedQuote_Rejected()
    {
        AssertErrors("apps:\n  web:\n    run: node -e 'console.log(1)\n",
            "ROOT/tend.yaml:3:10: apps.web.run: unterminated single quote (opened at character 9)");
    }

    [Fact]
    public void Load_BothRunAndCmd_Rejected()
    {
        AssertErrors("apps:\n  web:\n    run: node a.js\n    cmd: node\n",
            "ROOT/tend.yaml:4:10: apps.web.cmd: set run or cmd, not both");
    }

    [Fact]
    public void Load_ShellOperatorWithoutShell_Rejected()
    {
        AssertErrors("apps:\n  web:\n    run: node a.js > out.log\n",
            "ROOT/tend.yaml:3:10: apps.web.run: \">\" means something to a shell, but run starts the program directly; set shell: true, or quote it to pass it as an argument");
    }

    [Fact]
    public void Load_ShellWithCmd_Rejected()
    {
        AssertErrors("apps:\n  web: { cmd: node, shell: true }\n",
            "ROOT/tend.yaml:2:21: apps.web.shell: shell: true needs run (a command line), not cmd");
    }

    [Fact]
    public void Load_ArgsWithRun_Rejected()
    {
        AssertErrors("apps:\n  web: { run: node a.js, args: [x] }\n",
            "ROOT/tend.yaml:2:26: apps.web.args: args goes with cmd; with run, write the arguments in the command line");
    }

    [Fact]
    public void Load_YamlSyntaxError_ReportsPosition()
    {
        AssertErrors("apps:\n  web:\n    run: node a.js\n   - oops\n",
            "ROOT/tend.yaml:4:4: invalid YAML: while parsing a block mapping, did not find expected key");
    }

    [Fact]
    public void Load_UnclosedFlowSequence_ReportsPosition()
    {
        AssertErrors("apps:\n  web: { cmd: node, args: [a, b }\n",
            "ROOT/tend.yaml:2:33: invalid YAML: while parsing a flow sequence, did not find expected ',' or ']'");
    }

    [Fact]
    public void Load_FlowSequenceRunningIntoNextLine_ReportsPosition()
    {
        // YamlDotNet fails this one with InvalidOperationException rather than a YamlException.
        AssertErrors("apps:\n  web: { cmd: node, args: [a, b\n  db: { cmd: node }\n",
            "ROOT/tend.yaml:2:27: invalid YAML: the parser gave up inside this [; is it closed?");
    }

    [Fact]
    public void Load_WrongType_SaysWhatWasExpected()
    {
        AssertErrors("apps:\n  web:\n    run: [node, a.js]\n    env: [A=1]\n    shell: yes\n",
            "ROOT/tend.yaml:3:10: apps.web.run: expected a string, got a list",
            "ROOT/tend.yaml:4:10: apps.web.env: expected a mapping of variable names to values, got a list",
            "ROOT/tend.yaml:5:12: apps.web.shell: expected true or false, got \"yes\"");
    }

    [Fact]
    public void Load_ManyErrors_AllReported()
    {
        AssertErrors("""
            apps:
              web:
                run: node a.js
                instances: 0
                restart: alway
              worker:
                run: python3 w.py
                min_uptime: soon
                stop_exit_codes: [0, 256]
            """,
            "ROOT/tend.yaml:4:16: apps.web.instances: expected a whole number ≥ 1 or \"max\", got \"0\"",
            "ROOT/tend.yaml:5:14: apps.web.restart: expected always, on-failure or never, got \"alway\"; did you mean \"always\"?",
            "ROOT/tend.yaml:8:17: apps.worker.min_uptime: expected a duration like 500ms, 10s, 2m or 1h, got \"soon\"",
            "ROOT/tend.yaml:9:26: apps.worker.stop_exit_codes[1]: expected a whole number 0..255, got \"256\"");
    }

    [Fact]
    public void Load_BadAppNames_Rejected()
    {
        AssertErrors("apps:\n  all: { run: node a.js }\n  web#1: { run: node a.js }\n  a/b: { run: node a.js }\n  -x: { run: node a.js }\n",
            "ROOT/tend.yaml:2:3: apps.all: \"all\" is reserved: commands use it to mean every app",
            "ROOT/tend.yaml:3:3: apps.web#1: invalid app name \"web#1\": use letters, digits, '_', '.' and '-', starting with a letter or digit",
            "ROOT/tend.yaml:4:3: apps.a/b: invalid app name \"a/b\": use letters, digits, '_', '.' and '-', starting with a letter or digit",
            "ROOT/tend.yaml:5:3: apps.-x: invalid app name \"-x\": use letters, digits, '_', '.' and '-', starting with a letter or digit");
    }

    [Fact]
    public void Load_EmptyApps_Rejected()
    {
        AssertErrors("version: 1\napps: {}\n",
            "ROOT/tend.yaml:2:7: apps: no apps declared; declare at least one");
    }

    [Fact]
    public void Load_UnsupportedVersion_Rejected()
    {
        AssertErrors("version: 2\napps:\n  web: { run: node a.js }\n",
            "ROOT/tend.yaml:1:10: version: unsupported version 2; this Tend reads version 1");
    }

    [Fact]
    public void Load_EmptyFile_Rejected()
    {
        AssertErrors("# nothing here\n", "ROOT/tend.yaml: the config is empty; declare your programs under apps:");
    }

    [Fact]
    public void Load_MissingFile_Rejected()
    {
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Load(Path.Combine(_dir.Root, "nope.yaml"), _dir.BaseEnv));

        Assert.Equal($"{_dir.Root}/nope.yaml: config file not found", Assert.Single(e.Errors).ToString());
    }

    [Fact]
    public void Load_IncrementVarWithoutStart_Rejected()
    {
        AssertErrors("apps:\n  web: { run: node a.js, increment_var: PORT }\n",
            "ROOT/tend.yaml:2:41: apps.web.increment_var: PORT is not set, so there is no start value; set it in env, or write increment_var: { name: PORT, start: 3000 }");
    }

    [Fact]
    public void Load_BackoffMaxBelowInitial_Rejected()
    {
        AssertErrors("apps:\n  web:\n    run: node a.js\n    backoff: { initial: 2s, max: 500ms }\n",
            "ROOT/tend.yaml:4:14: apps.web.backoff: max (500ms) is less than initial (2s)");
    }

    [Fact]
    public void Load_BackoffJitterOutOfRange_Rejected()
    {
        AssertErrors("apps:\n  web:\n    run: node a.js\n    backoff: { multiplier: 0.5, jitter: 2 }\n",
            "ROOT/tend.yaml:4:28: apps.web.backoff.multiplier: expected a number ≥ 1, got \"0.5\"",
            "ROOT/tend.yaml:4:41: apps.web.backoff.jitter: expected a number 0..1, got \"2\"");
    }

    [Fact]
    public void Load_LogAndLogs_Rejected()
    {
        AssertErrors("apps:\n  web:\n    run: node a.js\n    log: { format: json }\n    logs: { format: xml }\n",
            "ROOT/tend.yaml:5:5: apps.web.logs: log and logs are the same setting; keep one (the other is at line 4)");
    }

    [Fact]
    public void Load_BadLogFormat_Rejected()
    {
        AssertErrors("apps:\n  web:\n    run: node a.js\n    log: { format: xml, max_files: 0 }\n",
            "ROOT/tend.yaml:4:20: apps.web.log.format: expected text or json, got \"xml\"",
            "ROOT/tend.yaml:4:36: apps.web.log.max_files: expected a whole number ≥ 1, got \"0\"");
    }

    [Fact]
    public void Load_AppsAsList_PointsAtImport()
    {
        AssertErrors("apps:\n  - name: web\n    script: a.js\n",
            "ROOT/tend.yaml:2:3: apps: expected a mapping of app name to settings, got a list (a PM2 ecosystem file needs importing first)");
    }
}
