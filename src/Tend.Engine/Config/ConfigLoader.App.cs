using System.Globalization;
using Tend.Processes;

namespace Tend.Config;

public static partial class ConfigLoader
{
    private static readonly string[] s_appKeys =
    [
        "run", "cmd", "args", "shell", "cwd", "env", "env_file", "instances", "restart", "max_restarts",
        "min_uptime", "restart_delay", "backoff", "stop_signal", "kill_timeout", "stop_exit_codes",
        "max_memory", "increment_var", "log", "logs", "significant", "depends_on", "ready", "live", "watchdog",
        "critical", "listen", "listen_mode", "reload_parallelism", "reload_signal",
    ];
    private static readonly string[] s_logKeys = ["out_file", "err_file", "timestamps", "format", "max_size", "max_files"];
    private static readonly string[] s_backoffKeys = ["initial", "max", "multiplier", "jitter"];
    private static readonly string[] s_incrementKeys = ["name", "start"];
    private static readonly string[] s_restartPolicies = ["always", "on-failure", "never"];

    /// <summary>Keys PM2 users (or readers of the roadmap) will write, answered with a hint instead of a typo guess.</summary>
    private static readonly Dictionary<string, string> s_appHints = new(StringComparer.Ordinal)
    {
        ["script"] = "Tend uses cmd (a program, with args) or run (a whole command line)",
        ["name"] = "an app's name is its key under apps:",
        ["interpreter"] = "put the interpreter in the command, as run: node app.js",
        ["max_memory_restart"] = "Tend calls it max_memory",
        ["autorestart"] = "Tend uses restart: always | on-failure | never",
        ["exec_mode"] = "Tend has no exec_mode: set instances, and listen: (a port) to share a port between them",
        ["out_file"] = "put it under log:, as log: { out_file: ... }",
        ["error_file"] = "put it under log:, as log: { err_file: ... }",
        ["err_file"] = "put it under log:, as log: { err_file: ... }",
        ["listen_timeout"] = "Tend calls it ready_timeout, under ready:",
        ["wait_ready"] = "set ready: { notify: true } (or a probe) and Tend waits for it",
        ["health"] = "Tend splits it into ready: (taken out of rotation) and live: (restarted)",
    };

    private const string NoCommandMessage = "no command; set run (a command line) or cmd (a program, with args)";

    /// <summary>What the first pass collects before anything can be resolved (cwd and env are needed to check the command).</summary>
    private sealed class AppDraft
    {
        /// <summary>run or cmd was written, even if with the wrong type (then "no command" would only repeat that error).</summary>
        public bool CommandWritten { get; set; }
        public YNode? RunNode { get; set; }
        public YNode? CmdNode { get; set; }
        public List<string>? Args { get; set; }
        public YNode? ArgsKey { get; set; }
        public bool Shell { get; set; }
        public YNode? ShellKey { get; set; }
        public YNode? LogKey { get; set; }
        public string? Cwd { get; set; }
        public YNode? CwdNode { get; set; }
        public List<(string Path, YNode Node)> EnvFiles { get; } = [];
        public List<KeyValuePair<string, string>> Env { get; } = [];
        public string? IncrementName { get; set; }
        public long? IncrementStart { get; set; }
        public YNode? IncrementNode { get; set; }
        public YNode? BackoffNode { get; set; }
        public YNode? ListenModeNode { get; set; }
        public YNode? ReadyNode { get; set; }
    }

    private static AppSpec? ReadApp(FileContext context, string name, YNode nameNode, YNode node)
    {
        NodeReader reader = context.Reader;
        string field = "apps." + name;
        int errorsBefore = reader.Errors.Count;
        if (NodeReader.IsNull(node))
        {
            reader.Error(nameNode, field, NoCommandMessage);
            return null;
        }
        if (!reader.TryMapping(node, field, "a mapping of settings", out YMapping map)) return null;

        var draft = new AppDraft();
        var tree = new AppTreeDraft(name);
        var spec = new AppSpec
        {
            Name = name,
            Command = "",
            Args = EquatableArray<string>.Empty,
            Cwd = context.BaseDir,
            Env = EquatableDictionary.Empty,
        };

        foreach (var (key, keyNode, value) in reader.Entries(map, field, s_appKeys, s_appHints))
        {
            string f = field + "." + key;
            // `key:` with no value means the default, except for the command, where it means a mistake.
            if (NodeReader.IsNull(value) && key is not ("run" or "cmd")) continue;
            switch (key)
            {
                case "run":
                case "cmd":
                    draft.CommandWritten = true;
                    if (value is not YScalar) reader.Error(value, f, $"expected a string, got {value.Describe()}");
                    else if (key == "run") draft.RunNode = value;
                    else draft.CmdNode = value;
                    break;
                case "args":
                    draft.ArgsKey = keyNode;
                    draft.Args = ReadArgs(reader, value, f);
                    break;
                case "shell":
                    draft.ShellKey = keyNode;
                    if (reader.TryBool(value, f, out bool shell)) draft.Shell = shell;
                    break;
                case "cwd":
                    if (reader.TryString(value, f, out string cwd))
                    {
                        draft.Cwd = cwd;
                        draft.CwdNode = value;
                    }
                    break;
                case "env":
                    ReadEnv(reader, value, f, draft.Env);
                    break;
                case "env_file":
                    ReadEnvFileNames(reader, value, f, draft.EnvFiles);
                    break;
                case "instances":
                    if (ReadInstances(reader, value, f) is int instances) spec = spec with { Instances = instances };
                    break;
                case "restart":
                    if (ReadRestart(reader, value, f) is RestartPolicy policy) spec = spec with { Restart = policy };
                    break;
                case "max_restarts":
                    if (reader.TryInt(value, f, 0, int.MaxValue, out int maxRestarts)) spec = spec with { MaxRestarts = maxRestarts };
                    break;
                case "min_uptime":
                    if (reader.TryDuration(value, f, out TimeSpan minUptime)) spec = spec with { MinUptime = minUptime };
                    break;
                case "restart_delay":
                    if (reader.TryDuration(value, f, out TimeSpan delay)) spec = spec with { RestartDelay = delay };
                    break;
                case "kill_timeout":
                    // OTP's shutdown: 0 is a brutal kill (SIGKILL, no stop_signal), infinity waits for ever.
                    if (value is YScalar { Value: var text } && string.Equals(text, "infinity", StringComparison.OrdinalIgnoreCase))
                        spec = spec with { KillTimeout = Timeout.InfiniteTimeSpan };
                    else if (reader.TryDuration(value, f, out TimeSpan killTimeout)) spec = spec with { KillTimeout = killTimeout };
                    break;
                case "backoff":
                    draft.BackoffNode = value;
                    if (ReadBackoff(reader, value, f) is { } backoff) spec = spec with { Backoff = backoff };
                    break;
                case "stop_signal":
                    if (ReadSignal(reader, value, f) is int signal) spec = spec with { StopSignal = signal };
                    break;
                case "reload_signal":
                    if (ReadSignal(reader, value, f) is int reloadSignal) spec = spec with { ReloadSignal = reloadSignal };
                    break;
                case "stop_exit_codes":
                    if (ReadExitCodes(reader, value, f) is { } codes) spec = spec with { StopExitCodes = codes };
                    break;
                case "max_memory":
                    if (reader.TrySize(value, f, out long maxMemory)) spec = spec with { MaxMemoryBytes = maxMemory };
                    break;
                case "increment_var":
                    ReadIncrementVar(reader, value, f, draft);
                    break;
                case "log":
                case "logs":
                    if (draft.LogKey is not null)
                    {
                        reader.Error(keyNode, f, $"log and logs are the same setting; keep one (the other is at line {draft.LogKey.Start.Line})");
                        break;
                    }
                    draft.LogKey = keyNode;
                    if (ReadLog(context, value, f) is { } logs) spec = spec with { Logs = logs };
                    break;
                case "significant":
                    tree.SignificantKey = keyNode;
                    if (reader.TryBool(value, f, out bool significant)) spec = spec with { Significant = significant };
                    break;
                case "depends_on":
                    ReadDependsOn(reader, value, f, tree.Dependencies);
                    break;
                case "ready":
                    draft.ReadyNode = value;
                    if (ReadReady(reader, value, f) is { } ready) spec = spec with { Ready = ready };
                    break;
                case "live":
                    if (ReadLive(reader, value, f) is { } live) spec = spec with { Live = live };
                    break;
                case "watchdog":
                    if (reader.TryDuration(value, f, out TimeSpan watchdog))
                    {
                        if (watchdog <= TimeSpan.Zero) reader.Error(value, f, "must be more than 0 (leave it out for no watchdog)");
                        else spec = spec with { Watchdog = watchdog };
                    }
                    break;
                case "critical":
                    if (reader.TryBool(value, f, out bool critical)) spec = spec with { Critical = critical };
                    break;
                case "listen":
                    if (ReadListen(reader, value, f) is { } listen) spec = spec with { Listen = listen };
                    break;
                case "listen_mode":
                    draft.ListenModeNode = value;
                    if (reader.TryString(value, f, out string mode))
                    {
                        switch (mode)
                        {
                            case "socket": spec = spec with { ListenMode = ListenMode.Socket }; break;
                            case "proxy": spec = spec with { ListenMode = ListenMode.Proxy }; break;
                            default: reader.Error(value, f, $"expected socket or proxy, got \"{mode}\""); break;
                        }
                    }
                    break;
                case "reload_parallelism":
                    if (reader.TryInt(value, f, 1, 1000, out int parallelism)) spec = spec with { ReloadParallelism = parallelism };
                    break;
            }
        }
        tree.Restart = spec.Restart;
        tree.Significant = spec.Significant;
        context.Tree.Apps.Add(tree);
        if (tree.Dependencies.Count > 0)
            spec = spec with { DependsOn = new EquatableArray<Dependency>(tree.Dependencies.Select(d => new Dependency(d.Name, d.Condition))) };

        spec = Resolve(context, name, nameNode, draft, spec);
        return reader.Errors.Count > errorsBefore ? null : spec;
    }

    /// <summary>Second pass: cwd, environment, the command and its executable, increment_var, cross-field rules.</summary>
    private static AppSpec Resolve(FileContext context, string name, YNode nameNode, AppDraft draft, AppSpec spec)
    {
        NodeReader reader = context.Reader;
        string field = "apps." + name;
        int errorsBefore = reader.Errors.Count;

        if (draft.RunNode is not null && draft.CmdNode is not null)
        {
            YNode later = draft.RunNode.Start.Line > draft.CmdNode.Start.Line ? draft.RunNode : draft.CmdNode;
            reader.Error(later, field + (later == draft.RunNode ? ".run" : ".cmd"), "set run or cmd, not both");
        }
        else if (draft.RunNode is null && draft.CmdNode is null && !draft.CommandWritten)
        {
            reader.Error(nameNode, field, NoCommandMessage);
        }
        if (draft.Shell && draft.CmdNode is not null && draft.RunNode is null)
        {
            reader.Error(draft.ShellKey!, field + ".shell", "shell: true needs run (a command line), not cmd");
        }
        if (draft.ArgsKey is not null && draft.RunNode is not null && draft.CmdNode is null)
        {
            reader.Error(draft.ArgsKey, field + ".args", "args goes with cmd; with run, write the arguments in the command line");
        }

        string cwd = context.BaseDir;
        bool cwdExists = Directory.Exists(cwd);
        if (draft.Cwd is not null)
        {
            cwd = Path.GetFullPath(draft.Cwd, context.BaseDir);
            cwdExists = Directory.Exists(cwd);
            if (!cwdExists) reader.Error(draft.CwdNode!, field + ".cwd", $"directory \"{cwd}\" does not exist");
        }

        var env = new Dictionary<string, string>(context.BaseEnvironment, StringComparer.Ordinal);
        foreach (var (envFile, node) in draft.EnvFiles)
        {
            ApplyEnvFile(context, envFile, node, field + ".env_file", env);
        }
        foreach (var (key, value) in draft.Env) env[key] = value;

        string command = "";
        List<string> args = [];
        if (draft.RunNode is YScalar run && draft.CmdNode is null)
        {
            string runField = field + ".run";
            if (string.IsNullOrWhiteSpace(run.Value) || run.IsNull)
            {
                reader.Error(run, runField, "empty command");
            }
            else if (!reader.TryString(run, runField, out _))
            {
                // a NUL: reported; nothing to split or look up
            }
            else if (draft.Shell)
            {
                command = "/bin/sh";
                args = ["-c", run.Value];
            }
            else if (SplitRun(reader, run, runField) is { } words)
            {
                command = words[0];
                args = words[1..];
                CheckExecutable(reader, run, runField, command, cwd, cwdExists, env);
            }
        }
        else if (draft.CmdNode is YScalar cmd && draft.RunNode is null)
        {
            string cmdField = field + ".cmd";
            if (string.IsNullOrWhiteSpace(cmd.Value) || cmd.IsNull)
            {
                reader.Error(cmd, cmdField, "empty command");
            }
            else if (!reader.TryString(cmd, cmdField, out _))
            {
                // a NUL: reported
            }
            else
            {
                command = cmd.Value;
                args = draft.Args ?? [];
                CheckExecutable(reader, cmd, cmdField, command, cwd, cwdExists, env);
            }
        }

        if (draft.IncrementName is { } incrementName)
        {
            long? start = draft.IncrementStart;
            if (start is null)
            {
                if (!env.TryGetValue(incrementName, out string? startText))
                {
                    reader.Error(draft.IncrementNode!, field + ".increment_var",
                        $"{incrementName} is not set, so there is no start value; set it in env, or write increment_var: {{ name: {incrementName}, start: 3000 }}");
                }
                else if (!long.TryParse(startText, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long parsed))
                {
                    reader.Error(draft.IncrementNode!, field + ".increment_var",
                        $"{incrementName} is \"{startText}\", not a whole number to count up from");
                }
                else
                {
                    start = parsed;
                }
            }
            if (start is long s) spec = spec with { IncrementVar = new IncrementVar(incrementName, s) };
        }

        if (spec.ListenMode == ListenMode.Proxy && draft.ListenModeNode is not null)
        {
            if (spec.Listen.Count == 0)
                reader.Error(draft.ListenModeNode, field + ".listen_mode", "proxy forwards connections from listen: addresses; set listen: (a port)");
            else if (spec.Listen.FirstOrDefault(a => a.StartsWith('/')) is { } path)
                reader.Error(draft.ListenModeNode, field + ".listen_mode", $"proxy forwards TCP only; \"{path}\" is a unix socket (use listen_mode: socket)");
        }

        CheckReadyNotOnSharedListen(reader, spec, draft.ReadyNode, field);

        if (spec.Backoff.Max < spec.Backoff.Initial)
        {
            reader.Error(draft.BackoffNode!, field + ".backoff",
                $"max ({Units.FormatDuration(spec.Backoff.Max)}) is less than initial ({Units.FormatDuration(spec.Backoff.Initial)})");
        }

        AppSpec final = spec with
        {
            Command = command,
            Args = new EquatableArray<string>(args),
            Shell = draft.Shell && draft.RunNode is not null,
            Cwd = cwd,
            Env = new EquatableDictionary(env),
        };
        // What no program can be started with, wherever it came from (an env_file, the caller's
        // environment): refused here, with the app's line, rather than failing at launch.
        if (reader.Errors.Count == errorsBefore)
            foreach (var (f2, message) in Limits.SpawnProblems(final)) reader.Error(nameNode, field + "." + f2, message);
        return final;
    }

    /// <summary>Splits a run line; reports unterminated quotes, emptiness and shell operators that would not work.</summary>
    private static List<string>? SplitRun(NodeReader reader, YScalar run, string field)
    {
        if (!ShellWords.TrySplit(run.Value, out var words, out string? error))
        {
            reader.Error(run, field, error!);
            return null;
        }
        if (words.Count == 0)
        {
            reader.Error(run, field, "empty command");
            return null;
        }
        foreach (var word in words)
        {
            if (!word.Quoted && ShellWords.ShellOperators.Contains(word.Text))
            {
                reader.Error(run, field,
                    $"\"{word.Text}\" means something to a shell, but run starts the program directly; set shell: true, or quote it to pass it as an argument");
                return null;
            }
        }
        return words.ConvertAll(w => w.Text);
    }

    private static void CheckExecutable(
        NodeReader reader, YNode node, string field, string command, string cwd, bool cwdExists, Dictionary<string, string> env)
    {
        if (command.Contains('/') && !Path.IsPathRooted(command) && !cwdExists) return; // the cwd error says it all
        if (CheckExecutable(command, cwd, env) is { } message) reader.Error(node, field, message);
    }

    /// <summary>Null if <paramref name="command"/> would start, else why not.</summary>
    private static string? CheckExecutable(string command, string cwd, IReadOnlyDictionary<string, string> env)
    {
        env.TryGetValue("PATH", out string? path);
        switch (ExecutableLookup.Find(command, cwd, path, out string? resolved))
        {
            case ExecutableLookup.Outcome.Found:
                return null;
            case ExecutableLookup.Outcome.NotExecutable:
                return $"\"{resolved}\" is not executable (chmod +x it, or run it through its interpreter)";
            default:
                if (Path.IsPathRooted(command)) return $"executable \"{command}\" not found";
                if (command.Contains('/')) return $"executable \"{command}\" not found in {cwd}";
                return path is null
                    ? $"executable \"{command}\" not found: PATH is not set"
                    : $"executable \"{command}\" not found on PATH ({path})";
        }
    }

    private static List<string>? ReadArgs(NodeReader reader, YNode value, string field)
    {
        if (value is YScalar { IsNull: false } line)
        {
            // PM2 allows args as one string; split it the same way as run.
            if (ShellWords.TrySplit(line.Value, out var words, out string? error)) return words.ConvertAll(w => w.Text);
            reader.Error(value, field, error!);
            return null;
        }
        if (value is not YSequence seq)
        {
            reader.Error(value, field, $"expected a list of strings, got {value.Describe()}");
            return null;
        }
        var args = new List<string>(seq.Items.Count);
        for (int i = 0; i < seq.Items.Count; i++)
        {
            if (reader.TryText(seq.Items[i], $"{field}[{i}]", out string arg)) args.Add(arg);
        }
        return args;
    }

    private static void ReadEnv(NodeReader reader, YNode value, string field, List<KeyValuePair<string, string>> env)
    {
        if (!reader.TryMapping(value, field, "a mapping of variable names to values", out YMapping map)) return;
        var seen = new Dictionary<string, YNode>(StringComparer.Ordinal);
        foreach (var (keyNode, valueNode) in map.Entries)
        {
            if (keyNode is not YScalar { IsNull: false } keyScalar)
            {
                reader.Error(keyNode, field, $"expected a variable name, got {keyNode.Describe()}");
                continue;
            }
            string key = keyScalar.Value;
            string keyField = field + "." + key;
            if (seen.TryGetValue(key, out YNode? first))
            {
                reader.Error(keyNode, keyField, $"duplicate key \"{key}\"; first defined at line {first.Start.Line}");
                continue;
            }
            seen.Add(key, keyNode);
            if (!IsValidEnvName(key))
            {
                reader.Error(keyNode, keyField, $"\"{key}\" is not a valid environment variable name");
                continue;
            }
            if (reader.TryText(valueNode, keyField, out string text)) env.Add(new(key, text));
        }
    }

    private static bool IsValidEnvName(string name) => name.Length > 0 && !name.Contains('=') && !name.Contains('\0');

    private static void ReadEnvFileNames(NodeReader reader, YNode value, string field, List<(string, YNode)> files)
    {
        if (value is YSequence seq)
        {
            for (int i = 0; i < seq.Items.Count; i++)
            {
                if (reader.TryString(seq.Items[i], $"{field}[{i}]", out string path)) files.Add((path, seq.Items[i]));
            }
        }
        else if (reader.TryString(value, field, out string path))
        {
            files.Add((path, value));
        }
    }

    private static void ApplyEnvFile(FileContext context, string envFile, YNode node, string field, Dictionary<string, string> env)
    {
        NodeReader reader = context.Reader;
        string fullPath = Path.GetFullPath(envFile, context.BaseDir);
        // Errors inside the env file name it the way the user can open it: relative to where
        // they pointed us at tend.yaml, not an absolute path they never typed.
        string display = Path.IsPathRooted(envFile) ? envFile : Path.Join(context.DisplayDir, envFile);
        string text;
        try
        {
            // A FIFO would hang the load and /dev/zero would never end: a bounded regular file only.
            if (Directory.Exists(fullPath) || (File.Exists(fullPath) && !IsRegularFile(fullPath)))
            {
                reader.Error(node, field, $"env file \"{display}\" is not a regular file");
                return;
            }
            if (File.Exists(fullPath) && new FileInfo(fullPath).Length is var length && length > Limits.MaxEnvFileBytes)
            {
                reader.Error(node, field, $"env file \"{display}\" is {length / 1024} KiB; at most {Limits.MaxEnvFileBytes / 1024} KiB is read");
                return;
            }
            text = File.ReadAllText(fullPath);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            reader.Error(node, field, $"env file \"{display}\" not found");
            return;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            reader.Error(node, field, $"cannot read env file \"{display}\": {e.Message}");
            return;
        }

        var problems = new List<DotEnv.Problem>();
        foreach (var (key, value) in DotEnv.Parse(text, problems)) env[key] = value;
        foreach (var problem in problems)
        {
            reader.Errors.Add(new ConfigError(display, problem.Line, problem.Column, field, problem.Message));
        }
    }

    /// <summary>A regular file (a symlink to one is one).</summary>
    private static bool IsRegularFile(string path) => FileStatus.TryOf(path, followLinks: true, out FileStatus s) && s.IsRegular;

    private static int? ReadInstances(NodeReader reader, YNode value, string field)
    {
        if (value is YScalar { IsNull: false } s)
        {
            if (string.Equals(s.Value, "max", StringComparison.OrdinalIgnoreCase)) return Environment.ProcessorCount;
            if (int.TryParse(s.Value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int n) && n >= 1)
            {
                if (n <= Limits.MaxInstances) return n;
                reader.Error(value, field, $"{n} instances is more than the {Limits.MaxInstances} Tend allows per app");
                return null;
            }
        }
        reader.Error(value, field, $"expected a whole number ≥ 1 or \"max\", got {value.Describe()}");
        return null;
    }

    private static RestartPolicy? ReadRestart(NodeReader reader, YNode value, string field)
    {
        if (value is YScalar { IsNull: false } s)
        {
            switch (s.Value.ToLowerInvariant().Replace('_', '-'))
            {
                case "always": return RestartPolicy.Always;
                case "on-failure": return RestartPolicy.OnFailure;
                case "never": return RestartPolicy.Never;
            }
            reader.Error(value, field,
                $"expected always, on-failure or never, got {value.Describe()}{Suggest.DidYouMean(s.Value, s_restartPolicies)}");
            return null;
        }
        reader.Error(value, field, $"expected always, on-failure or never, got {value.Describe()}");
        return null;
    }

    private static int? ReadSignal(NodeReader reader, YNode value, string field)
    {
        if (value is not YScalar { IsNull: false } s)
        {
            reader.Error(value, field, $"expected a signal name like SIGTERM or a number, got {value.Describe()}");
            return null;
        }
        if (Signals.TryParse(s.Value, out int number)) return number;
        string text = s.Value.Trim();
        if (int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _))
        {
            reader.Error(value, field, $"unknown signal {text}; Linux signal numbers are 1..64");
            return null;
        }
        string upper = text.ToUpperInvariant();
        string asName = upper.StartsWith("SIG", StringComparison.Ordinal) ? upper : "SIG" + upper;
        reader.Error(value, field, $"unknown signal \"{text}\"{Suggest.DidYouMean(asName, Signals.Names)}");
        return null;
    }

    private static EquatableArray<int>? ReadExitCodes(NodeReader reader, YNode value, string field)
    {
        IReadOnlyList<YNode> items = value is YSequence seq ? seq.Items : [value];
        var codes = new List<int>(items.Count);
        bool ok = true;
        for (int i = 0; i < items.Count; i++)
        {
            string itemField = value is YSequence ? $"{field}[{i}]" : field;
            if (reader.TryInt(items[i], itemField, 0, 255, out int code)) codes.Add(code);
            else ok = false;
        }
        return ok ? new EquatableArray<int>(codes) : (EquatableArray<int>?)null;
    }

    private static BackoffSpec? ReadBackoff(NodeReader reader, YNode value, string field)
    {
        if (value is YScalar s)
        {
            switch (s.Value.ToLowerInvariant())
            {
                case "false" or "none":
                    return new BackoffSpec(TimeSpan.Zero, TimeSpan.Zero, 1.0, 0.0);
                case "true":
                    return BackoffSpec.Default;
            }
        }
        if (value is not YMapping map)
        {
            reader.Error(value, field, $"expected a mapping (initial, max, multiplier, jitter), or false for none, got {value.Describe()}");
            return null;
        }
        BackoffSpec backoff = BackoffSpec.Default;
        bool ok = true;
        foreach (var (key, _, node) in reader.Entries(map, field, s_backoffKeys))
        {
            if (NodeReader.IsNull(node)) continue;
            string f = field + "." + key;
            switch (key)
            {
                case "initial":
                    if (reader.TryDuration(node, f, out TimeSpan initial)) backoff = backoff with { Initial = initial };
                    else ok = false;
                    break;
                case "max":
                    if (reader.TryDuration(node, f, out TimeSpan max)) backoff = backoff with { Max = max };
                    else ok = false;
                    break;
                case "multiplier":
                    if (reader.TryDouble(node, f, 1, double.PositiveInfinity, out double multiplier)) backoff = backoff with { Multiplier = multiplier };
                    else ok = false;
                    break;
                case "jitter":
                    if (reader.TryDouble(node, f, 0, 1, out double jitter)) backoff = backoff with { Jitter = jitter };
                    else ok = false;
                    break;
            }
        }
        return ok ? backoff : null;
    }

    private static void ReadIncrementVar(NodeReader reader, YNode value, string field, AppDraft draft)
    {
        draft.IncrementNode = value;
        if (value is YMapping map)
        {
            string? name = null;
            foreach (var (key, keyNode, node) in reader.Entries(map, field, s_incrementKeys))
            {
                string f = field + "." + key;
                if (key == "name" && reader.TryString(node, f, out string n)) name = n;
                else if (key == "start" && !NodeReader.IsNull(node))
                {
                    if (node is YScalar ss && long.TryParse(ss.Value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long start))
                    {
                        draft.IncrementStart = start;
                    }
                    else
                    {
                        reader.Error(node, f, $"expected a whole number, got {node.Describe()}");
                    }
                }
            }
            if (name is null)
            {
                reader.Error(value, field, "missing name: the variable to count up, as { name: PORT, start: 3000 }");
                return;
            }
            SetIncrementName(reader, value, field, draft, name);
        }
        else if (reader.TryString(value, field, out string name))
        {
            SetIncrementName(reader, value, field, draft, name);
        }
    }

    private static void SetIncrementName(NodeReader reader, YNode value, string field, AppDraft draft, string name)
    {
        if (IsValidEnvName(name)) draft.IncrementName = name;
        else reader.Error(value, field, $"\"{name}\" is not a valid environment variable name");
    }

    private static LogSpec? ReadLog(FileContext context, YNode value, string field)
    {
        NodeReader reader = context.Reader;
        if (!reader.TryMapping(value, field, "a mapping (out_file, err_file, timestamps, format, max_size, max_files)", out YMapping map)) return null;
        LogSpec log = LogSpec.Default;
        bool ok = true;
        foreach (var (key, _, node) in reader.Entries(map, field, s_logKeys))
        {
            if (NodeReader.IsNull(node)) continue;
            string f = field + "." + key;
            switch (key)
            {
                case "out_file":
                case "err_file":
                    if (!reader.TryString(node, f, out string path))
                    {
                        ok = false;
                    }
                    else if (string.IsNullOrWhiteSpace(path))
                    {
                        reader.Error(node, f, "expected a file path, got an empty string");
                        ok = false;
                    }
                    else
                    {
                        string full = Path.GetFullPath(path, context.BaseDir);
                        log = key == "out_file" ? log with { OutFile = full } : log with { ErrFile = full };
                    }
                    break;
                case "timestamps":
                    if (reader.TryBool(node, f, out bool timestamps)) log = log with { Timestamps = timestamps };
                    else ok = false;
                    break;
                case "format":
                    switch ((node as YScalar)?.Value.ToLowerInvariant())
                    {
                        case "text": log = log with { Format = LogFormat.Text }; break;
                        case "json": log = log with { Format = LogFormat.Json }; break;
                        default:
                            reader.Error(node, f, $"expected text or json, got {node.Describe()}");
                            ok = false;
                            break;
                    }
                    break;
                case "max_size":
                    if (reader.TrySize(node, f, out long maxSize)) log = log with { MaxSizeBytes = maxSize };
                    else ok = false;
                    break;
                case "max_files":
                    if (reader.TryInt(node, f, 1, int.MaxValue, out int maxFiles)) log = log with { MaxFiles = maxFiles };
                    else ok = false;
                    break;
            }
        }
        return ok ? log : null;
    }
}
