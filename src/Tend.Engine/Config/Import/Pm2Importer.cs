using System.Globalization;

namespace Tend.Config.Import;

/// <summary>
/// PM2's ecosystem file (its apps, already evaluated to JSON when it was JavaScript) → tend.yaml
/// (docs/import.md#pm2). Every key PM2 documents is either mapped, approximated with a comment, or
/// listed in the report with the reason; PM2's defaults that differ from Tend's (SIGINT, 1.6 s
/// kill timeout, NODE_APP_INSTANCE) are written out so the app behaves as it did.
/// </summary>
internal static class Pm2Importer
{
    /// <summary>Keys with no equivalent and why (watch, cron and the IPC messages are on Tend's roadmap: docs/import.md).</summary>
    private static readonly Dictionary<string, string> s_unmapped = new(StringComparer.Ordinal)
    {
        ["watch_options"] = "chokidar's options; Tend's watch: has paths, include, ignore, debounce (docs/config.md#watch)",
        ["listen_timeout"] = "without wait_ready it bounds cluster mode's 'listening' event, which Tend does not wait for; a ready: probe's ready_timeout is the equivalent",
        ["namespace"] = "Tend has no namespaces; start each namespace's file on its own, or group apps under a supervisor",
        ["log_file"] = "Tend keeps stdout and stderr apart (out_file, err_file); `tend logs` shows them merged",
        ["log_date_format"] = "Tend's timestamps are ISO 8601 (log.timestamps)",
        ["log_type"] = "log.format: json is the equivalent; set it by hand if you want it",
        ["combine_logs"] = "Tend writes one file per instance ({instance} in the path)",
        ["source_map_support"] = "a Node flag (--enable-source-maps in node_args does it)",
        ["vizion"] = "PM2's version-control metadata; nothing to map",
        ["post_update"] = "PM2's deploy hooks; nothing to map",
        ["force"] = "PM2 CLI behaviour; nothing to map",
        ["autostart"] = "Tend starts every app of a file; leave the app out to not start it",
        ["treekill"] = "Tend always stops the whole process group (and cgroup)",
        ["pmx"] = "PM2's monitoring agent; Tend has /metrics",
        ["automation"] = "PM2's monitoring agent; Tend has /metrics",
        ["instance_var"] = "only one per-instance variable can be set; increment_var was already used",
        ["disable_trace"] = "PM2's monitoring agent; Tend has /metrics",
        ["deep_monitoring"] = "PM2's monitoring agent; Tend has /metrics",
        ["append_env_to_name"] = "app names are fixed in tend.yaml",
        ["filter_env"] = "Tend passes the environment `tend start` runs in; unset what you do not want",
        ["exec_interpreter"] = "use interpreter",
        ["uid"] = "use user: (Tend runs apps as other users when the daemon runs as root)",
        ["gid"] = "use group:",
        ["max_restarts_window"] = "Tend counts consecutive unstable runs instead (max_restarts, min_uptime)",
    };

    private static readonly string[] s_mapped =
    [
        "name", "script", "args", "interpreter", "interpreter_args", "node_args", "cwd", "instances", "exec_mode", "env",
        "autorestart", "max_restarts", "min_uptime", "restart_delay", "exp_backoff_restart_delay", "max_memory_restart",
        "kill_timeout", "stop_exit_codes", "out_file", "error_file", "err_file", "output", "error", "merge_logs", "time",
        "increment_var", "user", "group", "kill_signal", "port", "cron_restart", "wait_ready", "shutdown_with_message",
        "watch", "ignore_watch", "watch_delay",
    ];

    /// <summary>PM2's listen_timeout default: how long wait_ready waits for process.send('ready').</summary>
    private const string Pm2ListenTimeout = "3000ms";

    /// <summary>
    /// The interpreter PM2 picks for a script by its extension (<see cref="ScriptInterpreter"/>, the
    /// same table `tend start app.js` uses), and node for a bare name that is no file here, as PM2 does;
    /// null: run the file itself.
    /// </summary>
    private static string? InterpreterFor(string script) =>
        Path.GetExtension(script).Length == 0 && !script.Contains('/') && !File.Exists(script) ? "node" : ScriptInterpreter.ForFile(script);

    public static ImportResult Import(YNode root, string source, string baseDir, string? envName)
    {
        var notes = new List<ImportNote>();
        var apps = new List<ImportedApp>();
        YNode? list = root switch
        {
            YMapping m when Field(m, "apps") is { } a => a,
            YSequence s => s,
            YMapping m when Field(m, "script") is not null => new YSequence(m.Start, [m]), // a single app object
            _ => null,
        };
        if (list is not YSequence seq || seq.Items.Count == 0)
            throw new ImportException($"{source}: no apps found (expected module.exports = {{ apps: [ … ] }})");
        if (root is YMapping top)
        {
            foreach (var (k, _) in top.Entries)
            {
                if (k is YScalar { Value: "deploy" }) notes.Add(new ImportNote("(file)", "deploy", ImportNoteKind.Unmapped, "PM2's deploy section (git pulls over ssh) has no equivalent; deploy with your own tooling, then `tend reload`"));
            }
        }
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (YNode item in seq.Items)
        {
            if (item is not YMapping app) throw new ImportException($"{source}: an entry of apps is not an object");
            apps.Add(ImportApp(app, baseDir, envName, notes, names));
        }
        string header = $"Imported from {source} by `tend import pm2`{(envName is null ? "" : $" --env {envName}")}.\nWhat was approximated or left out is in the comments below and in the report `tend import` printed.";
        return new ImportResult("pm2", source, ImportRenderer.Render(header, apps), notes, [.. apps.Select(a => a.Name)]);
    }

    private static ImportedApp ImportApp(YMapping m, string baseDir, string? envName, List<ImportNote> notes, HashSet<string> names)
    {
        string script = Text(Field(m, "script")) ?? throw new ImportException("an app has no script");
        string rawName = Text(Field(m, "name")) ?? Path.GetFileNameWithoutExtension(script);
        string name = Names.Sanitize(rawName, names);
        var app = new ImportedApp(name);
        if (name != rawName) notes.Add(new ImportNote(name, "name", ImportNoteKind.Approximated, $"\"{rawName}\" is not a valid app name; renamed"));

        string cwd = Path.GetFullPath(Text(Field(m, "cwd")) ?? ".", baseDir);

        // The command: PM2 runs a script through an interpreter picked by its extension (node for .js).
        string? interpreter = Text(Field(m, "interpreter")) ?? Text(Field(m, "exec_interpreter"));
        var interpreterArgs = Words(Field(m, "interpreter_args")).Concat(Words(Field(m, "node_args"))).ToList();
        var args = Words(Field(m, "args")).ToList();
        if (interpreter is "none") interpreter = null;
        else interpreter ??= InterpreterFor(script);
        if (interpreter is null)
        {
            app.String("cmd", script);
            if (args.Count > 0) app.List("args", args);
        }
        else
        {
            app.String("cmd", interpreter);
            app.List("args", [.. interpreterArgs, script, .. args]);
        }
        app.String("cwd", cwd);
        // PM2 forks every app with Node's IPC channel; a Node app may call process.send() unguarded.
        bool node = interpreter is not null && Path.GetFileName(interpreter) is "node" or "nodejs";
        if (node) app.Set("ipc", "node", "Node's IPC channel, as PM2 gives it: process.send() works and NODE_APP_INSTANCE is set");

        // Instances: max (PM2's 0 and -1 too) is every CPU.
        string instancesNote = "";
        if (Field(m, "instances") is YScalar inst)
        {
            switch (inst.Value)
            {
                case "max" or "0":
                    app.Set("instances", "max");
                    break;
                case "-1":
                    app.Set("instances", "max", "PM2's -1 is every CPU but one; Tend's max is every CPU");
                    notes.Add(new ImportNote(name, "instances", ImportNoteKind.Approximated, "-1 (all CPUs but one) became max (all CPUs)"));
                    break;
                default:
                    if (int.TryParse(inst.Value, out int n) && n >= 1) app.Number("instances", n);
                    else notes.Add(new ImportNote(name, "instances", ImportNoteKind.Unmapped, $"\"{inst.Value}\" is not a number of instances"));
                    break;
            }
            instancesNote = inst.Value;
        }
        bool many = instancesNote is not ("" or "1");

        // Environment: env, then env_<name> of --env on top.
        var env = new List<KeyValuePair<string, string>>(Pairs(Field(m, "env")));
        var envSections = m.Entries.Select(e => (e.Key as YScalar)?.Value).Where(k => k?.StartsWith("env_", StringComparison.Ordinal) == true).Select(k => k!).ToList();
        if (envName is not null)
        {
            if (Field(m, "env_" + envName) is { } chosen)
            {
                foreach (var (k, v) in Pairs(chosen))
                {
                    env.RemoveAll(p => p.Key == k);
                    env.Add(new(k, v));
                }
            }
            else notes.Add(new ImportNote(name, "env_" + envName, ImportNoteKind.Unmapped, $"the app has no env_{envName}{(envSections.Count > 0 ? $" (it has {string.Join(", ", envSections)})" : "")}"));
        }
        foreach (string other in envSections.Where(s => s != "env_" + envName))
            notes.Add(new ImportNote(name, other, ImportNoteKind.Unmapped, envName is null ? $"not selected (pass --env {other[4..]} to use it)" : $"not selected (--env {envName})"));

        // Cluster mode: Node's cluster module shares one port between the workers in PM2.
        if (Text(Field(m, "exec_mode")) is "cluster" or "cluster_mode")
        {
            string? port = Text(Field(m, "port")) ?? env.FirstOrDefault(p => p.Key == "PORT").Value;
            if (port is not null && int.TryParse(port, out _))
            {
                app.List("listen", [port], "PM2 cluster mode: the instances share this port. Tend listens on it and forwards each\nconnection to a ready instance, which listens on its own $PORT (listen_mode: proxy).");
                app.Set("listen_mode", "proxy");
                env.RemoveAll(p => p.Key == "PORT");
                notes.Add(new ImportNote(name, "exec_mode", ImportNoteKind.Approximated, $"cluster: Tend's proxy listens on {port} and each instance gets its own PORT (the app must listen on process.env.PORT)"));
            }
            else
            {
                notes.Add(new ImportNote(name, "exec_mode", ImportNoteKind.Approximated, "cluster: no PORT in env, so the instances run side by side; add listen: PORT and listen_mode: proxy for one shared port"));
            }
        }
        if (Text(Field(m, "port")) is not null && !app.Has("listen")) env.Add(new("PORT", Text(Field(m, "port"))!));
        if (env.Count > 0) app.Map("env", env);

        // Per-instance variables: PM2 always sets NODE_APP_INSTANCE; increment_var (or instance_var) takes Tend's one slot.
        if (Text(Field(m, "increment_var")) is string inc) app.String("increment_var", inc);
        else if (many && (Text(Field(m, "instance_var")) ?? "NODE_APP_INSTANCE") is var var && !(node && var == "NODE_APP_INSTANCE"))
        {
            app.Set("increment_var", $"{{ name: {YamlText.Quote(var)}, start: 0 }}", "PM2 sets this to the instance number");
        }
        if (Field(m, "instance_var") is not null && Text(Field(m, "increment_var")) is not null)
            notes.Add(new ImportNote(name, "instance_var", ImportNoteKind.Unmapped, s_unmapped["instance_var"]));

        // Restarts.
        if (Field(m, "autorestart") is YScalar { Value: "false" }) app.Set("restart", "never");
        if (Text(Field(m, "max_restarts")) is string maxRestarts && int.TryParse(maxRestarts, out int mr)) app.Number("max_restarts", mr);
        if (Duration(Field(m, "min_uptime")) is string minUptime) app.Set("min_uptime", minUptime);
        else app.Set("min_uptime", "1s");
        if (Duration(Field(m, "restart_delay")) is string delay) app.Set("restart_delay", delay);
        if (Duration(Field(m, "exp_backoff_restart_delay")) is string backoff)
        {
            app.Set("backoff", $"{{ initial: {backoff}, max: 15s, multiplier: 1.5, jitter: 0 }}", "PM2's exp_backoff_restart_delay: ×1.5 per restart up to 15 s");
        }
        if (Text(Field(m, "max_memory_restart")) is string mem)
        {
            string size = mem.Trim().ToUpperInvariant() is var u && (u.EndsWith('K') || u.EndsWith('M') || u.EndsWith('G')) ? u : mem + "B";
            if (Units.TryParseSize(size, out _)) app.Set("max_memory", size);
            else notes.Add(new ImportNote(name, "max_memory_restart", ImportNoteKind.Unmapped, $"\"{mem}\" is not a size"));
        }

        // Stopping: PM2's defaults differ from Tend's.
        string killSignal = Text(Field(m, "kill_signal")) ?? "SIGINT";
        app.String("stop_signal", killSignal, Field(m, "kill_signal") is null ? "PM2's default stop signal" : null);
        if (Field(m, "kill_signal") is null) notes.Add(new ImportNote(name, "stop_signal", ImportNoteKind.DefaultCarried, "PM2 stops with SIGINT (Tend's default is SIGTERM): stop_signal: SIGINT"));
        if (Duration(Field(m, "kill_timeout")) is string kill) app.Set("kill_timeout", kill);
        else
        {
            app.Set("kill_timeout", "1600ms", "PM2's default kill timeout");
            notes.Add(new ImportNote(name, "kill_timeout", ImportNoteKind.DefaultCarried, "PM2 waits 1,600 ms before SIGKILL (Tend's default is 5 s): kill_timeout: 1600ms"));
        }
        if (Field(m, "shutdown_with_message") is YScalar { Value: "true" })
        {
            app.String("stop_message", "shutdown", "PM2's shutdown_with_message: process.on('message') gets 'shutdown' first");
            notes.Add(new ImportNote(name, "shutdown_with_message", ImportNoteKind.Approximated,
                "stop_message: shutdown; PM2 sent only the message, Tend also sends stop_signal if the app still runs after half of kill_timeout"));
        }

        // Readiness: PM2's wait_ready waits for process.send('ready') up to listen_timeout.
        if (Field(m, "wait_ready") is YScalar { Value: "true" })
        {
            string timeout = Duration(Field(m, "listen_timeout")) ?? Pm2ListenTimeout;
            app.Set("ready", $"{{ message: ready, ready_timeout: {timeout} }}", "PM2's wait_ready: ready once the app calls process.send('ready')");
            notes.Add(new ImportNote(name, "wait_ready", ImportNoteKind.Approximated,
                $"ready: {{ message: ready }}; PM2 went on as if ready after listen_timeout ({timeout}), Tend counts that as a failed start"));
        }
        else if (Field(m, "listen_timeout") is not null)
        {
            notes.Add(new ImportNote(name, "listen_timeout", ImportNoteKind.Unmapped, s_unmapped["listen_timeout"]));
        }

        var exitCodes = Words(Field(m, "stop_exit_codes")).ToList();
        if (exitCodes.Count > 0) app.Set("stop_exit_codes", "[" + string.Join(", ", exitCodes) + "]");

        // Logs: PM2 appends -<id> to each instance's file unless merge_logs.
        string? outFile = Text(Field(m, "out_file")) ?? Text(Field(m, "output"));
        string? errFile = Text(Field(m, "error_file")) ?? Text(Field(m, "err_file")) ?? Text(Field(m, "error"));
        bool merge = Field(m, "merge_logs") is YScalar { Value: "true" } || Field(m, "combine_logs") is YScalar { Value: "true" };
        var log = new List<string>();
        if (outFile is not null && outFile != "/dev/null") log.Add("out_file: " + YamlText.Quote(PerInstance(Path.GetFullPath(outFile, cwd), many)));
        bool oneFile = outFile is not null && errFile is not null && errFile != "/dev/null"
            && Path.GetFullPath(outFile, cwd) == Path.GetFullPath(errFile, cwd);
        if (oneFile)
            notes.Add(new ImportNote(name, "error_file", ImportNoteKind.Approximated,
                "the same file as out_file: Tend keeps stderr apart, in $TEND_HOME/logs (`tend logs NAME` shows both, in order)"));
        else if (errFile is not null && errFile != "/dev/null") log.Add("err_file: " + YamlText.Quote(PerInstance(Path.GetFullPath(errFile, cwd), many)));
        if (Field(m, "time") is YScalar { Value: "true" }) log.Add("timestamps: true");
        if (log.Count > 0) app.Set("log", "{ " + string.Join(", ", log) + " }", many && merge ? "PM2's merge_logs wrote one file for all instances; Tend writes one per instance" : null);
        if (many && merge && (outFile is not null || errFile is not null))
            notes.Add(new ImportNote(name, "merge_logs", ImportNoteKind.Approximated, "one file per instance ({instance} in the path); `tend logs NAME` shows them merged"));
        if (outFile == "/dev/null" || errFile == "/dev/null")
            notes.Add(new ImportNote(name, outFile == "/dev/null" ? "out_file" : "error_file", ImportNoteKind.Approximated, "/dev/null: Tend keeps the logs in $TEND_HOME/logs (rotated); there is no discard"));

        if (Text(Field(m, "cron_restart")) is string cron)
        {
            if (Schedules.Parse(cron).Error is string error) notes.Add(new ImportNote(name, "cron_restart", ImportNoteKind.Unmapped, error));
            else
            {
                app.String("restart_schedule", cron, "PM2's cron_restart restarted the app; Tend reloads it (instance by instance, health-gated)");
                notes.Add(new ImportNote(name, "cron_restart", ImportNoteKind.Approximated, "restart_schedule: a graceful reload, not a restart of every instance at once"));
            }
        }
        ImportWatch(m, name, cwd, app, notes);
        if (Text(Field(m, "user")) is string user) app.String("user", user);
        if (Text(Field(m, "group")) is string group) app.String("group", group);

        // Everything else: listed, never dropped silently.
        foreach (var (keyNode, _) in m.Entries)
        {
            if (keyNode is not YScalar { Value: var key }) continue;
            if (s_mapped.Contains(key) || key.StartsWith("env_", StringComparison.Ordinal) || key is "exec_interpreter") continue;
            if (key is "instance_var" or "listen_timeout") continue;
            notes.Add(new ImportNote(name, key, ImportNoteKind.Unmapped, s_unmapped.GetValueOrDefault(key, "no equivalent in Tend")));
        }
        return app;
    }

    /// <summary>watch (true or paths), ignore_watch, watch_delay → watch: { paths, ignore, debounce }.</summary>
    private static void ImportWatch(YMapping m, string name, string cwd, ImportedApp app, List<ImportNote> notes)
    {
        YNode? watch = Field(m, "watch");
        if (watch is null || watch is YScalar { Value: "false" })
        {
            if (Field(m, "ignore_watch") is not null || Field(m, "watch_delay") is not null)
                notes.Add(new ImportNote(name, Field(m, "ignore_watch") is not null ? "ignore_watch" : "watch_delay", ImportNoteKind.Unmapped, "watch is off"));
            return;
        }
        var parts = new List<string>();
        if (watch is not YScalar { Value: "true" })
        {
            var paths = Words(watch).ToList();
            foreach (string missing in paths.Where(p => !Path.Exists(Path.Combine(cwd, p))).ToList())
            {
                notes.Add(new ImportNote(name, "watch", ImportNoteKind.Unmapped, $"\"{missing}\" does not exist under {cwd}; left out"));
                paths.Remove(missing);
            }
            if (paths.Count == 0 && Words(watch).Any()) return;
            if (paths.Count > 0) parts.Add("paths: [" + string.Join(", ", paths.Select(YamlText.Quote)) + "]");
        }
        var ignore = Words(Field(m, "ignore_watch")).ToList();
        if (ignore.Count > 0) parts.Add("ignore: [" + string.Join(", ", ignore.Select(YamlText.Quote)) + "]");
        if (Duration(Field(m, "watch_delay")) is string delay) parts.Add("debounce: " + delay);
        app.Set("watch", parts.Count == 0 ? "true" : "{ " + string.Join(", ", parts) + " }",
            "PM2's watch: a change restarts the app (node_modules, .git and .gitignore'd paths are ignored too)");
        if (ignore.Count > 0)
            notes.Add(new ImportNote(name, "ignore_watch", ImportNoteKind.Approximated, "read as .gitignore patterns (chokidar's globs and regexes mostly read the same)"));
    }

    private static string PerInstance(string path, bool many)
    {
        if (!many || path.Contains("{instance}", StringComparison.Ordinal)) return path;
        string ext = Path.GetExtension(path);
        return path[..^ext.Length] + "-{instance}" + ext;
    }

    internal static YNode? Field(YMapping m, string key) =>
        m.Entries.LastOrDefault(e => e.Key is YScalar s && s.Value == key).Value is { } v && !NodeReader.IsNull(v) ? v : null;

    internal static string? Text(YNode? node) => node is YScalar { IsNull: false } s ? s.Value : null;

    /// <summary>A string (split like a shell line) or a list, as PM2's args and node_args are.</summary>
    internal static IEnumerable<string> Words(YNode? node) => node switch
    {
        YScalar { IsNull: false } s => ShellWords.TrySplit(s.Value, out var words, out _) ? words.Select(w => w.Text) : [s.Value],
        YSequence seq => seq.Items.Select(Text).Where(t => t is not null).Select(t => t!),
        _ => [],
    };

    internal static IEnumerable<KeyValuePair<string, string>> Pairs(YNode? node) => node is YMapping m
        ? m.Entries.Where(e => e.Key is YScalar).Select(e => new KeyValuePair<string, string>(((YScalar)e.Key).Value, Text(e.Value) ?? ""))
        : [];

    /// <summary>PM2's durations: a number of milliseconds, or a string with a unit ("5s").</summary>
    internal static string? Duration(YNode? node)
    {
        string? text = Text(node);
        if (text is null) return null;
        if (long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out long ms)) return ms + "ms";
        return Units.TryParseDuration(text, out _) ? text : null;
    }
}

/// <summary>An import that cannot be done, and why.</summary>
public sealed class ImportException(string message) : Exception(message);

/// <summary>App names as Tend accepts them, unique within one import.</summary>
internal static class Names
{
    public static string Sanitize(string raw, HashSet<string> taken)
    {
        var chars = raw.Select(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '-' ? c : '-').ToArray();
        string name = new string(chars).Trim('-', '.', '_');
        if (name.Length == 0 || !char.IsAsciiLetterOrDigit(name[0])) name = "app" + (name.Length == 0 ? "" : "-" + name);
        if (name.Length > Limits.MaxNameLength) name = name[..Limits.MaxNameLength];
        if (string.Equals(name, "all", StringComparison.OrdinalIgnoreCase)) name = "all-app";
        string unique = name;
        for (int i = 2; !taken.Add(unique); i++) unique = $"{name}-{i}";
        return unique;
    }
}
