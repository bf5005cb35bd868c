using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using Tend.Api;

namespace Tend.Cli.Commands;

/// <summary>
/// `tend start tend.yaml [--only a,b]` or `tend start [-n name] [-i N] <command> [args] [-- args]`.
/// A first word naming an existing .yaml/.yml/.json file means a config; anything else is a command
/// line. Words after `--` go to the command untouched, even when they look like tend's own options.
/// </summary>
internal sealed class StartCommand : TendCommand
{
    private static readonly string[] s_configExtensions = [".yaml", ".yml", ".json"];
    private static readonly string[] s_defaultConfigs = ["tend.yaml", "tend.yml"];

    private readonly Argument<string[]> _words = new("file-or-command")
    {
        Description = "A tend.yaml (or .yml/.json), or the command to run and its arguments",
        Arity = ArgumentArity.ZeroOrMore,
    };
    private readonly Option<string?> _name = new("--name", "-n") { Description = "The app's name (default: the script's or executable's file name, without its extension)" };
    private readonly Option<int?> _instances = new("--instances", "-i")
    {
        Description = "How many instances to run: a number, or 'max' (PM2's 0) for one per CPU, -1 for every CPU but one",
        HelpName = "N|max",
        CustomParser = ParseInstances,
    };
    private readonly Option<string[]> _only = new("--only")
    {
        Description = "With a config file: start only these apps (comma-separated, repeatable)",
        HelpName = "app,app",
    };

    private readonly Option<string?> _env = new("--env")
    {
        Description = "With a PM2 ecosystem file: merge its env_NAME over env, as pm2 start --env does",
        HelpName = "NAME",
    };

    // PM2's start flags for a command, each setting one tend.yaml key (read by the config loader as in a file).
    private readonly Option<bool> _watch = new("--watch") { Description = "Restart on file changes in the working directory (watch: true)" };
    private readonly Option<string[]> _ignoreWatch = new("--ignore-watch")
    {
        Description = "With --watch: changes to these never count (.gitignore patterns, space-separated or repeated; watch.ignore)",
        HelpName = "patterns",
    };
    private readonly Option<string?> _maxMemory = new("--max-memory-restart")
    {
        Description = "Restart an instance whose memory passes this size, e.g. 300M (max_memory)",
        HelpName = "size",
    };
    private readonly Option<bool> _noAutorestart = new("--no-autorestart") { Description = "Do not restart it when it exits (restart: never)" };
    private readonly Option<string?> _cronRestart = new("--cron-restart", "--cron")
    {
        Description = "Reload it at each time of a cron expression, e.g. \"0 3 * * *\" (restart_schedule)",
        HelpName = "cron",
    };
    private readonly Option<string?> _killTimeout = new("--kill-timeout")
    {
        Description = "Wait this long after the stop signal before SIGKILL: 5s, or milliseconds as PM2 (kill_timeout)",
        HelpName = "duration",
    };
    private readonly Option<string?> _restartDelay = new("--restart-delay")
    {
        Description = "Wait this long before each restart: 2s, or milliseconds as PM2 (restart_delay)",
        HelpName = "duration",
    };
    private readonly Option<string?> _maxRestarts = new("--max-restarts")
    {
        Description = "Unstable restarts in a row before it is errored (max_restarts)",
        HelpName = "N",
    };
    private readonly Option<string?> _minUptime = new("--min-uptime")
    {
        Description = "A run at least this long is a stable start, which resets the restart count: 5s, or milliseconds as PM2 (min_uptime)",
        HelpName = "duration",
    };
    private readonly Option<string?> _expBackoff = new("--exp-backoff-restart-delay")
    {
        Description = "Restart after this delay, 1.5 times longer at each unstable restart up to 15s, as PM2 (backoff: { initial, multiplier: 1.5, max: 15s })",
        HelpName = "duration",
    };
    private readonly Option<string?> _user = new("--uid", "--user")
    {
        Description = "Run it as this user, a name or an id (user; the daemon must run as root)",
        HelpName = "user",
    };
    private readonly Option<string?> _group = new("--gid", "--group")
    {
        Description = "With this primary group, a name or an id (group)",
        HelpName = "group",
    };

    private readonly Option<string?> _cwd = new("--cwd")
    {
        Description = "The command's working directory (default: this one); the command is found from it, as PM2 does",
        HelpName = "dir",
    };
    private readonly Option<string?> _interpreter = new("--interpreter")
    {
        Description = "Run the script with this program, e.g. python3 (default, and none as in PM2: the script runs itself, or by its extension when it is not executable)",
        HelpName = "program",
    };
    private readonly Option<string?> _interpreterArgs = new("--interpreter-args", "--node-args")
    {
        Description = "The interpreter's own arguments, before the script, e.g. \"--max-old-space-size=512\" (split at spaces)",
        HelpName = "args",
    };
    private readonly Option<string?> _output = new("--output", "-o")
    {
        Description = "Write stdout to this file, relative to this directory; {instance} is the instance's number (log.out_file)",
        HelpName = "path",
    };
    private readonly Option<string?> _error = new("--error", "-e")
    {
        Description = "Write stderr to this file, relative to this directory; {instance} as for --output (log.err_file)",
        HelpName = "path",
    };
    private readonly Option<bool> _time = new("--time") { Description = "Prefix each log line with its time (log.timestamps: on by default; PM2's flag)" };

    private readonly Option<bool> _waitReady = new("--wait-ready")
    {
        Description = "Return only once every started instance is ready (or fail if one cannot get there)",
    };
    private readonly Option<TimeSpan?> _waitTimeout = new("--wait-timeout")
    {
        Description = "With --wait-ready: give up after this long (default 60s)",
        HelpName = "duration",
        CustomParser = ParseDuration,
    };

    /// <summary>What to do to the file's apps that already run from it ("reload", "restart"); null for start, which leaves them alone.</summary>
    private readonly string? _ifRunning;

    public StartCommand(CliContext context) : this(context, "start", "Start the apps of a tend.yaml, or a command as a new app.", ifRunning: null)
    {
    }

    /// <summary>PM2's startOrReload (and startOrGracefulReload): what runs from the file is reloaded, the rest started.</summary>
    public static StartCommand OrReload(CliContext context)
    {
        var command = new StartCommand(context, "startOrReload",
            "Start a config file's apps that are not running, and reload (no downtime) those that are, with the file as it is now.", "reload");
        command.Aliases.Add("startOrGracefulReload");
        return command;
    }

    /// <summary>PM2's startOrRestart: what runs from the file is restarted, the rest started.</summary>
    public static StartCommand OrRestart(CliContext context) => new(context, "startOrRestart",
        "Start a config file's apps that are not running, and restart those that are, with the file as it is now.", "restart");

    private StartCommand(CliContext context, string name, string description, string? ifRunning) : base(name, description, context)
    {
        _ifRunning = ifRunning;
        Add(_words);
        Add(_name);
        Add(_instances);
        Add(_only);
        Add(_env);
        Add(_watch);
        Add(_ignoreWatch);
        Add(_maxMemory);
        Add(_noAutorestart);
        Add(_cronRestart);
        Add(_killTimeout);
        Add(_restartDelay);
        Add(_maxRestarts);
        Add(_minUptime);
        Add(_expBackoff);
        Add(_user);
        Add(_group);
        Add(_cwd);
        Add(_interpreter);
        Add(_interpreterArgs);
        Add(_output);
        Add(_error);
        Add(_time);
        Add(_waitReady);
        Add(_waitTimeout);
    }

    protected override async Task<int> ExecuteAsync(ParseResult parseResult, CancellationToken ct)
    {
        string[] words = parseResult.GetValue(_words) ?? [];
        string? envName = parseResult.GetValue(_env);
        if (envName is not null && (envName.Length == 0 || envName.Any(c => !char.IsAsciiLetterOrDigit(c) && c is not '_' and not '-')))
            throw new CliException($"--env must name an env_NAME section of the ecosystem file (letters, digits, _ and -), not '{envName}'", 2);
        // A PM2 ecosystem file, a Procfile, a supervisord.conf or a process-compose.yaml: imported on the
        // way (docs/import.md), the report printed, and the generated tend.yaml started.
        // Several systemd units (`tend start db.service api.service`): imported together, as `tend import systemd` does.
        string[] units = [.. words.Select(w => Path.GetFullPath(w, Context.CurrentDirectory))];
        bool severalUnits = words.Length > 1 && units.All(u => u.EndsWith(".service", StringComparison.Ordinal) && File.Exists(u));
        if ((severalUnits || words.Length == 1) && units.Length > 0 && units[0] is var candidate && File.Exists(candidate)
            && ForeignConfig.MightBe(candidate))
        {
            // The importers are the engine's: the daemon's binary decides, imports and reports (EngineHandoff).
            string generated = ForeignConfig.GeneratedPath(Context.Home, candidate, envName, severalUnits ? units[1..] : null);
            int imported = await EngineHandoff.RunAsync(EngineCommands.StartImport,
                new StartImportInvocation(candidate, generated, string.Join(' ', words), envName, severalUnits ? units[1..] : null),
                EngineCommandJsonContext.Default.StartImportInvocation, Context.CurrentDirectory, Out(parseResult), Error(parseResult), ct).ConfigureAwait(false);
            if (imported == 0) words = [generated];
            else if (imported != EngineCommands.NotForeign) return imported;
        }
        else if (envName is not null)
        {
            throw new CliException(
                $"--env {envName} selects env_{envName} of a PM2 ecosystem file; {(words.Length == 0 ? "no file was given" : $"'{string.Join(' ', words)}' is not one")}",
                2, ["tend start ecosystem.config.js --env " + envName]);
        }
        StartRequest request = BuildRequest(
            words,
            parseResult.GetValue(_name),
            parseResult.GetValue(_instances),
            parseResult.GetValue(_only),
            Context.CurrentDirectory,
            Context.GetEnvironment(),
            Settings(parseResult));
        request = WithCommandFlags(request, parseResult);
        if (_ifRunning is not null)
        {
            if (request.ConfigPath is null)
                throw new CliException($"tend {Name} takes a config file: what runs from it is {_ifRunning}ed, the rest started", 2,
                    [$"tend {Name} tend.yaml", $"tend {Name} ecosystem.config.js --env production", "tend start <command> for a command"]);
            request = request with { IfRunning = _ifRunning };
        }

        using DaemonClient client = Context.CreateClient(autoStart: true);
        ActionResult result = await client.PostAsync(
            ApiRoutes.Start, request, TendJsonContext.Default.StartRequest, TendJsonContext.Default.ActionResult, ct).ConfigureAwait(false);
        TextWriter output = Out(parseResult);
        output.WriteLine(result.Message);
        string? failure = null;
        if (parseResult.GetValue(_waitReady))
        {
            TimeSpan timeout = parseResult.GetValue(_waitTimeout) ?? TimeSpan.FromSeconds(60);
            failure = await ReadyWait.WaitAsync(client, result.Affected, timeout, ct).ConfigureAwait(false);
            if (failure is null && result.Affected.Count > 0) output.WriteLine($"ready: {string.Join(", ", result.Affected)}");
        }
        else if (parseResult.GetValue(_waitTimeout) is not null)
        {
            throw new CliException("--wait-timeout goes with --wait-ready", 2);
        }
        await ListCommand.WriteTableAsync(client, output, Context.Color, ct).ConfigureAwait(false);
        // The table first, so the reason comes with the picture of what is (not) running.
        if (failure is not null) throw new CliException(failure, 1);
        return 0;
    }

    private static TimeSpan? ParseDuration(ArgumentResult result)
    {
        string text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
        if (Config.Units.TryParseDuration(text, out TimeSpan value) && value > TimeSpan.Zero) return value;
        result.AddError($"--wait-timeout must be a duration such as 30s or 2m, not '{text}'");
        return null;
    }

    /// <summary>
    /// --cwd, --interpreter and --interpreter-args, which only a command takes: with a config file they are a
    /// usage error (the file says cwd: and run: per app). "--interpreter none" is PM2's: run the script as it is.
    /// </summary>
    private StartRequest WithCommandFlags(StartRequest request, ParseResult parseResult)
    {
        string? cwd = parseResult.GetValue(_cwd);
        string? interpreter = parseResult.GetValue(_interpreter);
        string? interpreterArgs = parseResult.GetValue(_interpreterArgs);
        if (request.ConfigPath is not null)
        {
            string[] given = [.. new[] { (cwd, "--cwd"), (interpreter, "--interpreter"), (interpreterArgs, "--interpreter-args") }.Where(f => f.Item1 is not null).Select(f => f.Item2)];
            if (given.Length > 0)
                throw new CliException($"{string.Join(", ", given)}: these flags apply to a command; a config file sets cwd: and run: per app", 2);
            return request;
        }
        if (cwd is not null)
        {
            if (cwd.Trim().Length == 0) throw new CliException("--cwd must name a directory", 2);
            request = request with { Cwd = Path.GetFullPath(cwd, Context.CurrentDirectory) };
        }
        if (interpreter is not null && interpreter.Trim().Length == 0) throw new CliException("--interpreter must name a program (or none)", 2);
        string[] extra = interpreterArgs?.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries) ?? [];
        if (interpreter == "none")
        {
            if (extra.Length > 0) throw new CliException("--interpreter none runs the script as it is: there is no interpreter for --interpreter-args", 2);
            interpreter = null;
        }
        return request with { Interpreter = interpreter, InterpreterArgs = extra.Length > 0 ? extra : null };
    }

    /// <summary>The tend.yaml keys PM2's start flags set, with their values as given (the engine checks them).</summary>
    private Dictionary<string, string> Settings(ParseResult parseResult)
    {
        var settings = new Dictionary<string, string>(StringComparer.Ordinal);
        string[] ignore = [.. (parseResult.GetValue(_ignoreWatch) ?? []).SelectMany(p => p.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries))];
        if (ignore.Length > 0 && !parseResult.GetValue(_watch)) throw new CliException("--ignore-watch goes with --watch", 2);
        // watch: { ignore: [...] } watches the working directory as watch: true does.
        if (ignore.Length > 0) settings["watch.ignore"] = JsonList(ignore);
        else if (parseResult.GetValue(_watch)) settings["watch"] = "true";
        if (parseResult.GetValue(_noAutorestart)) settings["restart"] = "never";
        void Text(Option<string?> option, string key)
        {
            if (parseResult.GetValue(option) is string value) settings[key] = value;
        }
        Text(_maxMemory, "max_memory");
        Text(_cronRestart, "restart_schedule");
        Text(_killTimeout, "kill_timeout");
        Text(_restartDelay, "restart_delay");
        Text(_maxRestarts, "max_restarts");
        Text(_minUptime, "min_uptime");
        Text(_user, "user");
        Text(_group, "group");
        if (parseResult.GetValue(_expBackoff) is string initial)
        {
            // PM2's exp_backoff_restart_delay: ×1.5 per unstable restart, capped at 15 s, no jitter.
            settings["backoff.initial"] = initial;
            settings["backoff.multiplier"] = "1.5";
            settings["backoff.max"] = "15s";
            settings["backoff.jitter"] = "0";
        }
        // Log paths as a shell user means them: from this directory, not the app's.
        if (parseResult.GetValue(_output) is "" || parseResult.GetValue(_error) is "") throw new CliException("--output and --error must name a file", 2);
        if (parseResult.GetValue(_output) is string output) settings["log.out_file"] = Path.GetFullPath(output, Context.CurrentDirectory);
        if (parseResult.GetValue(_error) is string error) settings["log.err_file"] = Path.GetFullPath(error, Context.CurrentDirectory);
        if (parseResult.GetValue(_time)) settings["log.timestamps"] = "true";
        return settings;
    }

    /// <summary>A list setting as the engine reads one: a JSON array of strings.</summary>
    private static string JsonList(IEnumerable<string> items) => Rendering.JsonText.Build(writer =>
    {
        writer.WriteStartArray();
        foreach (string item in items) writer.WriteStringValue(item);
        writer.WriteEndArray();
    });

    /// <summary>Turns the command line into the request; usage mistakes throw with exit code 2.</summary>
    internal static StartRequest BuildRequest(
        IReadOnlyList<string> words, string? name, int? instances, IReadOnlyList<string>? only,
        string cwd, IReadOnlyDictionary<string, string> env, IReadOnlyDictionary<string, string>? settings = null)
    {
        IReadOnlyList<string>? apps = SplitOnly(only);

        string? configPath = null;
        if (words.Count == 0)
        {
            configPath = DefaultConfig(cwd)
                ?? throw new CliException(
                    "nothing to start: give a command or a config file",
                    2, ["tend start tend.yaml", "tend start -n web -i 2 node server.js -- --port 3000"]);
        }
        else if (IsConfigFileName(words[0]))
        {
            configPath = Path.GetFullPath(words[0], cwd);
            if (!File.Exists(configPath)) throw new CliException($"config file not found: {configPath}", 2);
            if (words.Count > 1)
                throw new CliException($"a config file takes no arguments: {string.Join(' ', words.Skip(1))}", 2);
        }

        if (configPath is not null)
        {
            if (name is not null || instances is not null)
                throw new CliException("--name and --instances apply to a command; set them in the config file", 2);
            if (settings is { Count: > 0 })
                throw new CliException($"{string.Join(", ", settings.Keys.Order(StringComparer.Ordinal))}: these flags apply to a command; set the keys per app in the config file", 2);
            return new StartRequest(configPath, apps, Command: null, Name: null, Instances: null, Cwd: null, env);
        }

        if (words[0].StartsWith('-'))
            throw new CliException($"unknown option '{words[0]}'", 2, ["put the command's own options after --: tend start node -- --inspect app.js"]);
        if (apps is not null) throw new CliException("--only selects apps of a config file; it does not apply to a command", 2);
        if (name is not null && string.IsNullOrWhiteSpace(name)) throw new CliException("--name must not be empty", 2);
        return new StartRequest(
            ConfigPath: null,
            Only: null,
            Command: words.ToArray(),
            Name: name,
            Instances: instances,
            Cwd: cwd,
            Env: env,
            Settings: settings is { Count: > 0 } ? settings : null);
    }

    /// <summary>The config `tend start` takes without one named: tend.yaml, else tend.yml, in <paramref name="cwd"/>; null when neither is there.</summary>
    internal static string? DefaultConfig(string cwd) => s_defaultConfigs.Select(f => Path.Combine(cwd, f)).FirstOrDefault(File.Exists);

    private static bool IsConfigFileName(string word) =>
        s_configExtensions.Any(ext => word.EndsWith(ext, StringComparison.OrdinalIgnoreCase));

    private static IReadOnlyList<string>? SplitOnly(IReadOnlyList<string>? only)
    {
        if (only is null) return null;
        string[] apps = only
            .SelectMany(o => o.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            .Distinct(StringComparer.Ordinal)
            .ToArray();
        return apps.Length == 0 ? null : apps;
    }

    private static int? ParseInstances(ArgumentResult result)
    {
        string text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
        // PM2's spellings: max and 0 mean one per CPU, -1 every CPU but one.
        if (text is "max" or "0") return Environment.ProcessorCount;
        if (text == "-1") return Math.Max(1, Environment.ProcessorCount - 1);
        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n >= 1) return n;
        result.AddError($"--instances must be a positive number, or max (0) for one per CPU, or -1 for every CPU but one; not '{text}'");
        return null;
    }
}
