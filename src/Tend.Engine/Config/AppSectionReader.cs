using System.Globalization;
using Tend.Processes;

namespace Tend.Config;

/// <summary>One app's settings under apps.NAME: read key by key into a draft, then resolved against the file system (cwd, env files, the executable) into an immutable spec.</summary>
internal static class AppSectionReader
{
    internal static readonly string[] s_appKeys =
    [
        "run", "cmd", "args", "shell", "cwd", "env", "env_file", "instances", "restart", "max_restarts",
        "min_uptime", "restart_delay", "backoff", "stop_signal", "kill_timeout", "stop_exit_codes", "no_retry", "breaker",
        "max_memory", "increment_var", "log", "logs", "significant", "depends_on", "ready", "live", "watchdog",
        "critical", "listen", "listen_mode", "reload_parallelism", "reload_signal", "node_diagnostics", "restart_schedule",
        "ipc", "stop_message", "watch", "schedule", "kubernetes", "min_available", "autoscale",
        .. IsolationSectionReader.s_keys,
    ];

    /// <summary>Keys PM2 users (or readers of the roadmap) will write, answered with a hint instead of a typo guess.</summary>
    internal static readonly Dictionary<string, string> s_appHints = new(StringComparer.Ordinal)
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
        ["wait_ready"] = "set ready: { message: ready } (PM2's process.send('ready')), notify: true or a probe, and Tend waits for it",
        ["shutdown_with_message"] = "set stop_message: shutdown and the app gets that message over Node's IPC channel before the stop signal",
        ["health"] = "Tend splits it into ready: (taken out of rotation) and live: (restarted)",
        ["uid"] = "Tend calls it user (a name or a numeric id)",
        ["gid"] = "Tend calls it group (a name or a numeric id)",
        ["memory_limit"] = "put it under resources:, as resources: { memory_max: 512M }",
    };

    private const string NoCommandMessage = "no command; set run (a command line) or cmd (a program, with args)";

    /// <summary>What the first pass collects before anything can be resolved (cwd and env are needed to check the command).</summary>
    internal sealed class AppDraft
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
        public YNode? IpcNode { get; set; }
        public YNode? WatchNode { get; set; }
        public YNode? ScheduleNode { get; set; }
        public YNode? RestartNode { get; set; }
        public YNode? InstancesNode { get; set; }
        public YNode? RestartScheduleNode { get; set; }
        public IsolationSectionReader.Draft Isolation { get; } = new();
    }

    internal static AppSpec? ReadApp(ConfigFileContext context, string name, YNode nameNode, YNode node)
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
        var tree = new TreeSectionReader.AppTreeDraft(name);
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
                    draft.Args = AppFieldReader.ReadArgs(reader, value, f);
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
                    EnvSectionReader.ReadEnv(reader, value, f, draft.Env);
                    break;
                case "env_file":
                    EnvSectionReader.ReadEnvFileNames(reader, value, f, draft.EnvFiles);
                    break;
                case "instances":
                    draft.InstancesNode = value;
                    if (AppFieldReader.ReadInstances(reader, value, f) is int instances) spec = spec with { Instances = instances };
                    break;
                case "restart":
                    draft.RestartNode = value;
                    if (AppFieldReader.ReadRestart(reader, value, f) is RestartPolicy policy) spec = spec with { Restart = policy };
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
                    if (AppFieldReader.ReadBackoff(reader, value, f) is { } backoff) spec = spec with { Backoff = backoff };
                    break;
                case "stop_signal":
                    if (AppFieldReader.ReadSignal(reader, value, f) is int signal) spec = spec with { StopSignal = signal };
                    break;
                case "reload_signal":
                    if (AppFieldReader.ReadSignal(reader, value, f) is int reloadSignal) spec = spec with { ReloadSignal = reloadSignal };
                    break;
                case "stop_exit_codes":
                    if (AppFieldReader.ReadExitCodes(reader, value, f) is { } codes) spec = spec with { StopExitCodes = codes };
                    break;
                case "restart_schedule":
                    draft.RestartScheduleNode = keyNode;
                    if (AppFieldReader.ReadRestartSchedule(reader, value, f) is { } schedule) spec = spec with { RestartSchedule = schedule };
                    break;
                case "ipc":
                    draft.IpcNode = value;
                    if (reader.TryString(value, f, out string ipc))
                    {
                        switch (ipc)
                        {
                            case "node": spec = spec with { NodeIpc = true }; break;
                            case "none": break;
                            default: reader.Error(value, f, $"expected node (Node's IPC channel, process.send) or none, got \"{ipc}\""); break;
                        }
                    }
                    break;
                case "stop_message":
                    if (reader.TryString(value, f, out string stopMessage))
                    {
                        if (stopMessage.Length == 0) reader.Error(value, f, "the message sent before the stop signal, such as shutdown; not empty");
                        else spec = spec with { StopMessage = stopMessage };
                    }
                    break;
                case "kubernetes":
                    spec = spec with { Kubernetes = KubernetesSectionReader.Read(reader, value, f, spec.Kubernetes) };
                    break;
                case "min_available":
                    if (KubernetesSectionReader.ReadMinAvailable(reader, value, f) is { } minAvailable) spec = spec with { Kubernetes = spec.Kubernetes with { MinAvailable = minAvailable } };
                    break;
                case "autoscale":
                    if (KubernetesSectionReader.ReadAutoscale(reader, value, f) is { } autoscale) spec = spec with { Kubernetes = spec.Kubernetes with { Autoscale = autoscale } };
                    break;
                case "schedule":
                    draft.ScheduleNode = keyNode;
                    if (AppFieldReader.ReadJob(reader, value, f) is { } job) spec = spec with { Job = job };
                    break;
                case "watch":
                    draft.WatchNode = value;
                    spec = spec with { Watch = WatchSectionReader.Read(reader, value, f) };
                    break;
                case "node_diagnostics":
                    if (reader.TryBool(value, f, out bool nodeDiagnostics)) spec = spec with { NodeDiagnostics = nodeDiagnostics };
                    break;
                case "no_retry":
                    if (AppFieldReader.ReadExitCodes(reader, value, f) is { } noRetry) spec = spec with { NoRetry = noRetry };
                    break;
                case "breaker":
                    if (AppFieldReader.ReadBreaker(reader, value, f) is { } breaker) spec = spec with { Breaker = breaker };
                    break;
                case "max_memory":
                    if (reader.TrySize(value, f, out long maxMemory)) spec = spec with { MaxMemoryBytes = maxMemory };
                    break;
                case "increment_var":
                    AppFieldReader.ReadIncrementVar(reader, value, f, draft);
                    break;
                case "log":
                case "logs":
                    if (draft.LogKey is not null)
                    {
                        reader.Error(keyNode, f, $"log and logs are the same setting; keep one (the other is at line {draft.LogKey.Start.Line})");
                        break;
                    }
                    draft.LogKey = keyNode;
                    if (AppFieldReader.ReadLog(context, value, f) is { } logs) spec = spec with { Logs = logs };
                    break;
                case "significant":
                    tree.SignificantKey = keyNode;
                    if (reader.TryBool(value, f, out bool significant)) spec = spec with { Significant = significant };
                    break;
                case "depends_on":
                    TreeSectionReader.ReadDependsOn(reader, value, f, tree.Dependencies, tree.WhileDown);
                    break;
                case "ready":
                    draft.ReadyNode = value;
                    if (HealthSectionReader.ReadReady(reader, value, f) is { } ready) spec = spec with { Ready = ready };
                    break;
                case "live":
                    if (HealthSectionReader.ReadLive(reader, value, f) is { } live) spec = spec with { Live = live };
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
                    if (ListenSectionReader.ReadListen(reader, value, f) is { } listen) spec = spec with { Listen = listen };
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
                default:
                    IsolationSectionReader.Read(reader, key, value, f, draft.Isolation);
                    break;
            }
        }
        tree.Restart = spec.Restart;
        tree.Significant = spec.Significant;
        context.Tree.Apps.Add(tree);
        if (tree.Dependencies.Count > 0)
            spec = spec with { DependsOn = new EquatableArray<Dependency>(tree.Dependencies.Select(d => new Dependency(d.Name, d.Condition) { WhileDown = tree.WhileDown.GetValueOrDefault(d.Name) })) };

        spec = Resolve(context, name, nameNode, draft, spec);
        return reader.Errors.Count > errorsBefore ? null : spec;
    }

    /// <summary>Second pass: cwd, environment, the command and its executable, increment_var, cross-field rules.</summary>
    internal static AppSpec Resolve(ConfigFileContext context, string name, YNode nameNode, AppDraft draft, AppSpec spec)
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
            EnvSectionReader.ApplyEnvFile(context, envFile, node, field + ".env_file", env);
        }
        foreach (var (key, value) in draft.Env) env[key] = value;
        // What the config itself set (env:, env_file:), as opposed to what came from the caller's environment.
        var setByConfig = new HashSet<string>(draft.Env.Select(e => e.Key), StringComparer.Ordinal);
        setByConfig.UnionWith(env.Where(e => !context.BaseEnvironment.TryGetValue(e.Key, out string? b) || b != e.Value).Select(e => e.Key));
        IsolationSpec isolation = IsolationSectionReader.Resolve(reader, field, draft.Isolation, env, setByConfig,
            cwd, draft.CwdNode ?? draft.Isolation.User?.Node ?? nameNode, context.Cgroups);

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
            else if (AppFieldReader.SplitRun(reader, run, runField) is { } words)
            {
                command = words[0];
                args = words[1..];
                AppFieldReader.CheckExecutable(reader, run, runField, command, cwd, cwdExists, env);
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
                AppFieldReader.CheckExecutable(reader, cmd, cmdField, command, cwd, cwdExists, env);
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

        HealthSectionReader.CheckReadyNotOnSharedListen(reader, spec, draft.ReadyNode, field);

        if (spec.Job is not null)
        {
            // A job runs once per occurrence: restarting it, or running several copies each time, is not what a schedule means.
            if (draft.RestartNode is YScalar { Value: var restart } && restart != "never")
                reader.Error(draft.RestartNode, field + ".restart", $"a job (schedule:) runs once per occurrence and is never restarted; remove restart: {restart}");
            if (spec.Instances != 1 && draft.InstancesNode is not null)
                reader.Error(draft.InstancesNode, field + ".instances", "a job (schedule:) runs one process per occurrence; concurrency: allow lets runs overlap");
            if (draft.RestartScheduleNode is not null)
                reader.Error(draft.RestartScheduleNode, field + ".restart_schedule", "a job (schedule:) already runs on its schedule; restart_schedule is for long-running apps");
            if (draft.WatchNode is not null)
                reader.Error(draft.WatchNode, field + ".watch", "a job (schedule:) is not running between its runs, so there is nothing to restart on a change");
            if (spec.Listen.Count > 0)
                reader.Error(draft.ScheduleNode!, field + ".schedule", "a job (schedule:) does not serve a listen: address");
            spec = spec with { Restart = RestartPolicy.Never, Instances = 1 };
        }

        if (spec.Watch is { } watch) spec = spec with { Watch = WatchSectionReader.Resolve(reader, draft.WatchNode!, field + ".watch", watch, cwd) };

        // A ready message or a stop message travels over Node's IPC channel, so either opens it;
        // ipc: none next to them is a contradiction, not a preference.
        if (spec.Ready?.Message is not null || spec.StopMessage is not null)
        {
            if (draft.IpcNode is YScalar { Value: "none" })
                reader.Error(draft.IpcNode, field + ".ipc", (spec.StopMessage is not null ? "stop_message" : "ready.message") + " travels over Node's IPC channel; remove ipc: none");
            spec = spec with { NodeIpc = true };
        }

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
            Isolation = isolation,
        };
        // What no program can be started with, wherever it came from (an env_file, the caller's
        // environment): refused here, with the app's line, rather than failing at launch.
        if (reader.Errors.Count == errorsBefore)
            foreach (var (f2, message) in Limits.SpawnProblems(final)) reader.Error(nameNode, field + "." + f2, message);
        return final;
    }
}
