using System.Globalization;
using System.Text.RegularExpressions;

namespace Tend.Config.Import;

/// <summary>
/// A Procfile (foreman, honcho, overmind, Heroku): one <c>type: command</c> per line, run by a shell,
/// with <c>.env</c> beside it. <c>--formation web=2,worker=1</c> sets instances; each instance gets
/// PORT as foreman assigns it: 5000 + 100 × the type's position + the instance number.
/// </summary>
internal static partial class ProcfileImporter
{
    public const int BasePort = 5000;

    public static ImportResult Import(string text, string source, string baseDir, IReadOnlyDictionary<string, int> formation)
    {
        var apps = new List<ImportedApp>();
        var notes = new List<ImportNote>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        string envFile = Path.Combine(baseDir, ".env");
        int index = 0;
        int lineNo = 0;
        foreach (string raw in text.Split('\n'))
        {
            lineNo++;
            string line = raw.TrimEnd('\r');
            if (line.Trim().Length == 0 || line.TrimStart().StartsWith('#')) continue;
            Match m = Entry().Match(line);
            if (!m.Success) throw new ImportException($"{source}:{lineNo}: expected \"name: command\", got \"{line}\"");
            string type = m.Groups[1].Value;
            string command = m.Groups[2].Value.Trim();
            string name = Names.Sanitize(type, names);
            var app = new ImportedApp(name);
            app.String("run", command);
            app.Set("shell", "true", "a Procfile line is a shell command");
            app.String("cwd", baseDir);
            if (File.Exists(envFile)) app.String("env_file", envFile);
            int count = formation.TryGetValue(type, out int c) ? c : formation.TryGetValue("all", out int all) ? all : 1;
            if (count == 0)
            {
                notes.Add(new ImportNote(name, "formation", ImportNoteKind.Unmapped, $"{type}=0: left out, as foreman starts none"));
                index++;
                continue;
            }
            if (count > 1) app.Number("instances", count);
            int port = BasePort + 100 * index;
            app.Set("increment_var", $"{{ name: PORT, start: {port} }}", $"foreman's PORT: {port} for the first {type}, one more for each next one");
            app.String("stop_signal", "SIGTERM");
            app.Set("kill_timeout", "5s", "foreman sends SIGTERM, then SIGKILL after 5 s");
            apps.Add(app);
            index++;
        }
        foreach (string type in formation.Keys.Where(k => k != "all" && !names.Contains(k)))
            notes.Add(new ImportNote(type, "formation", ImportNoteKind.Unmapped, "no such process type in the Procfile"));
        if (apps.Count == 0) throw new ImportException($"{source}: no process types found");
        string header = $"Imported from {source} by `tend import procfile`.";
        return new ImportResult("procfile", source, ImportRenderer.Render(header, apps), notes, [.. apps.Select(a => a.Name)]);
    }

    [GeneratedRegex(@"^([A-Za-z0-9_-]+):\s*(.+)$")]
    private static partial Regex Entry();
}

/// <summary>
/// supervisord.conf ([program:x] sections, [include] files) → tend.yaml. numprocs becomes instances
/// (process_num in the command becomes the instance number); autorestart=unexpected with exitcodes
/// becomes on-failure with stop_exit_codes; startsecs is min_uptime; stopwaitsecs kill_timeout.
/// </summary>
internal static partial class SupervisordImporter
{
    private static readonly string[] s_mapped =
    [
        "command", "directory", "numprocs", "numprocs_start", "process_name", "autorestart", "exitcodes", "startsecs", "startretries",
        "stopsignal", "stopwaitsecs", "user", "environment", "stdout_logfile", "stderr_logfile", "redirect_stderr", "priority", "autostart",
        "stopasgroup", "killasgroup", "umask",
    ];

    public static ImportResult Import(string path, string source)
    {
        var sections = new List<(string Name, Dictionary<string, string> Keys, string File)>();
        Read(path, sections, new HashSet<string>(StringComparer.Ordinal), 0);
        var apps = new List<ImportedApp>();
        var notes = new List<ImportNote>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        var programs = sections.Where(s => s.Name.StartsWith("program:", StringComparison.Ordinal))
            .OrderBy(s => int.TryParse(s.Keys.GetValueOrDefault("priority"), out int p) ? p : 999).ToList();
        foreach (var (sectionName, keys, file) in sections)
        {
            if (sectionName.StartsWith("group:", StringComparison.Ordinal))
                notes.Add(new ImportNote(sectionName, "group", ImportNoteKind.Approximated, "groups have no equivalent; their programs are imported as apps (a supervisor: can group them)"));
            else if (sectionName.StartsWith("eventlistener:", StringComparison.Ordinal) || sectionName.StartsWith("fcgi-program:", StringComparison.Ordinal))
                notes.Add(new ImportNote(sectionName, sectionName.Split(':')[0], ImportNoteKind.Unmapped, "no equivalent in Tend"));
        }
        foreach (var (sectionName, keys, file) in programs)
        {
            string program = sectionName["program:".Length..];
            string name = Names.Sanitize(program, names);
            var app = new ImportedApp(name);
            string dir = Path.GetDirectoryName(file)!;
            string command = Expand(keys.GetValueOrDefault("command") ?? throw new ImportException($"{file}: [program:{program}] has no command"), program, "{instance}");
            int numprocs = int.TryParse(keys.GetValueOrDefault("numprocs"), out int n) && n > 0 ? n : 1;
            app.String("run", command);
            app.String("cwd", keys.TryGetValue("directory", out string? d) ? Path.GetFullPath(Expand(d, program, "0"), dir) : dir);
            if (numprocs > 1)
            {
                app.Number("instances", numprocs, $"numprocs = {numprocs}: names like {program}_00 … are {name}#0 … in Tend");
                notes.Add(new ImportNote(name, "process_name", ImportNoteKind.Approximated, $"numprocs {numprocs}: the processes are instances {name}#0..{numprocs - 1} (TEND_INSTANCE holds the number)"));
                if (command.Contains("{instance}", StringComparison.Ordinal))
                {
                    notes.Add(new ImportNote(name, "command", ImportNoteKind.Unmapped, "%(process_num)s in the command: Tend's command is the same for every instance; the instance reads TEND_INSTANCE instead"));
                }
            }
            switch (keys.GetValueOrDefault("autorestart", "unexpected").ToLowerInvariant())
            {
                case "false":
                    app.Set("restart", "never");
                    break;
                case "unexpected":
                    app.Set("restart", "on-failure", "autorestart=unexpected: restarted unless the exit code is in exitcodes");
                    var codes = (keys.GetValueOrDefault("exitcodes") ?? "0").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
                    if (codes.Any(c => c != "0")) app.Set("stop_exit_codes", "[" + string.Join(", ", codes) + "]");
                    break;
            }
            app.Set("min_uptime", (int.TryParse(keys.GetValueOrDefault("startsecs"), out int ss) ? ss : 1) + "s");
            if (int.TryParse(keys.GetValueOrDefault("startretries"), out int retries)) app.Number("max_restarts", retries);
            else app.Number("max_restarts", 3, "supervisord's startretries default");
            app.String("stop_signal", "SIG" + (keys.GetValueOrDefault("stopsignal") ?? "TERM").ToUpperInvariant().Replace("SIG", ""));
            app.Set("kill_timeout", (int.TryParse(keys.GetValueOrDefault("stopwaitsecs"), out int sw) ? sw : 10) + "s");
            if (keys.TryGetValue("user", out string? user)) app.String("user", user);
            if (keys.TryGetValue("umask", out string? umask)) app.String("umask", umask);
            if (keys.TryGetValue("environment", out string? environment)) app.Map("env", ParseEnvironment(environment, program));
            var log = new List<string>();
            if (keys.TryGetValue("stdout_logfile", out string? so) && !IsAuto(so)) log.Add("out_file: " + YamlText.Quote(Path.GetFullPath(Expand(so, program, "{instance}"), dir)));
            if (keys.TryGetValue("stderr_logfile", out string? se) && !IsAuto(se)) log.Add("err_file: " + YamlText.Quote(Path.GetFullPath(Expand(se, program, "{instance}"), dir)));
            if (log.Count > 0) app.Set("log", "{ " + string.Join(", ", log) + " }");
            if (keys.GetValueOrDefault("redirect_stderr") is "true")
                notes.Add(new ImportNote(name, "redirect_stderr", ImportNoteKind.Approximated, "Tend keeps stderr apart; `tend logs` shows both streams merged"));
            if (keys.GetValueOrDefault("autostart") is "false")
                notes.Add(new ImportNote(name, "autostart", ImportNoteKind.Unmapped, "Tend starts every app of a file; stop it after, or leave it out"));
            foreach (string key in keys.Keys.Where(k => !s_mapped.Contains(k)))
                notes.Add(new ImportNote(name, key, ImportNoteKind.Unmapped, "no equivalent in Tend"));
            apps.Add(app);
        }
        if (apps.Count == 0) throw new ImportException($"{source}: no [program:…] sections");
        string header = $"Imported from {source} by `tend import supervisord` (programs in priority order).";
        return new ImportResult("supervisord", source, ImportRenderer.Render(header, apps), notes, [.. apps.Select(a => a.Name)]);
    }

    private static bool IsAuto(string value) => value.Equals("AUTO", StringComparison.OrdinalIgnoreCase) || value.Equals("NONE", StringComparison.OrdinalIgnoreCase);

    /// <summary>supervisord's %(name)s expansions that mean something here.</summary>
    private static string Expand(string value, string program, string processNum) => Expansion().Replace(value, m => m.Groups[1].Value switch
    {
        "program_name" => program,
        "process_num" => processNum,
        "here" => ".",
        var other => m.Value,
    });

    [GeneratedRegex(@"%\((\w+)\)[sd0-9]*")]
    private static partial Regex Expansion();

    /// <summary>KEY="value",KEY2=value2 (values may be quoted, commas inside quotes kept).</summary>
    private static List<KeyValuePair<string, string>> ParseEnvironment(string text, string program)
    {
        var result = new List<KeyValuePair<string, string>>();
        foreach (Match m in EnvPair().Matches(text))
        {
            string value = m.Groups[2].Success ? m.Groups[2].Value : m.Groups[3].Value;
            result.Add(new(m.Groups[1].Value, Expand(value, program, "0")));
        }
        return result;
    }

    [GeneratedRegex("""([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(?:"([^"]*)"|'?([^,']*)'?)""")]
    private static partial Regex EnvPair();

    /// <summary>The sections of an INI file and of the files its [include] names, in order.</summary>
    private static void Read(string path, List<(string, Dictionary<string, string>, string)> into, HashSet<string> seen, int depth)
    {
        string full = Path.GetFullPath(path);
        if (!seen.Add(full) || depth > 10) return;
        string? section = null;
        Dictionary<string, string>? keys = null;
        string? lastKey = null;
        foreach (string raw in File.ReadAllLines(full))
        {
            string line = raw.TrimEnd();
            string trimmed = line.Trim();
            if (trimmed.Length == 0 || trimmed[0] is ';' or '#') continue;
            if (trimmed.StartsWith('[') && trimmed.EndsWith(']'))
            {
                section = trimmed[1..^1].Trim();
                keys = new Dictionary<string, string>(StringComparer.Ordinal);
                into.Add((section, keys, full));
                lastKey = null;
                continue;
            }
            if (keys is null) continue;
            if (char.IsWhiteSpace(line[0]) && lastKey is not null)
            {
                keys[lastKey] += " " + trimmed; // a continuation line
                continue;
            }
            int eq = trimmed.IndexOfAny(['=', ':']);
            if (eq <= 0) continue;
            lastKey = trimmed[..eq].Trim();
            string value = trimmed[(eq + 1)..].Trim();
            int comment = value.IndexOf(" ;", StringComparison.Ordinal);
            if (comment >= 0) value = value[..comment].TrimEnd();
            keys[lastKey] = value;
        }
        foreach (var (name, k, file) in into.Where(s => s.Item1 == "include" && s.Item3 == full).ToList())
        {
            foreach (string pattern in (k.GetValueOrDefault("files") ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries))
            {
                string absolute = Path.GetFullPath(pattern, Path.GetDirectoryName(full)!);
                string dir = Path.GetDirectoryName(absolute)!;
                if (!Directory.Exists(dir)) continue;
                foreach (string match in Directory.GetFiles(dir, Path.GetFileName(absolute)).Order(StringComparer.Ordinal))
                    Read(match, into, seen, depth + 1);
            }
        }
    }
}

/// <summary>
/// process-compose.yaml → tend.yaml: processes with their dependencies (conditions), probes,
/// replicas, availability (restart policy, backoff, max restarts) and shutdown.
/// </summary>
internal static class ProcessComposeImporter
{
    private static readonly string[] s_mapped =
    [
        "command", "working_dir", "environment", "depends_on", "readiness_probe", "liveness_probe", "replicas", "availability",
        "shutdown", "log_location", "is_daemon", "namespace", "disabled", "description",
    ];

    public static ImportResult Import(YNode root, string source, string baseDir)
    {
        if (root is not YMapping top || Pm2Importer.Field(top, "processes") is not YMapping processes)
            throw new ImportException($"{source}: no processes: section");
        var apps = new List<ImportedApp>();
        var notes = new List<ImportNote>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        var renamed = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (k, _) in processes.Entries)
            if (k is YScalar s) renamed[s.Value] = Names.Sanitize(s.Value, names);
        var globalEnv = Pm2Importer.Field(top, "environment") is { } ge ? EnvList(ge).ToList() : [];
        foreach (var (keyNode, value) in processes.Entries)
        {
            if (keyNode is not YScalar { Value: var processName } || value is not YMapping p) continue;
            string name = renamed[processName];
            var app = new ImportedApp(name);
            if (Pm2Importer.Field(p, "disabled") is YScalar { Value: "true" })
            {
                notes.Add(new ImportNote(name, "disabled", ImportNoteKind.Unmapped, "disabled: left out"));
                continue;
            }
            string command = Pm2Importer.Text(Pm2Importer.Field(p, "command")) ?? throw new ImportException($"{source}: process {processName} has no command");
            app.String("run", command);
            app.Set("shell", "true", "process-compose runs the command with a shell");
            app.String("cwd", Path.GetFullPath(Pm2Importer.Text(Pm2Importer.Field(p, "working_dir")) ?? ".", baseDir));
            var env = globalEnv.Concat(Pm2Importer.Field(p, "environment") is { } e ? EnvList(e) : []).ToList();
            if (env.Count > 0) app.Map("env", env);
            if (Pm2Importer.Text(Pm2Importer.Field(p, "replicas")) is string replicas && int.TryParse(replicas, out int r) && r > 1) app.Number("instances", r);

            if (Pm2Importer.Field(p, "depends_on") is YMapping deps)
            {
                var conditions = new List<string>();
                foreach (var (dk, dv) in deps.Entries)
                {
                    if (dk is not YScalar { Value: var dep }) continue;
                    string? condition = dv is YMapping dm ? Pm2Importer.Text(Pm2Importer.Field(dm, "condition")) : null;
                    string tendCondition = condition switch
                    {
                        "process_healthy" => "ready",
                        "process_completed_successfully" => "completed",
                        "process_completed" => "completed",
                        _ => "started",
                    };
                    if (condition == "process_completed")
                        notes.Add(new ImportNote(name, $"depends_on.{dep}", ImportNoteKind.Approximated, "process_completed (any exit) became completed (exit 0)"));
                    conditions.Add($"{YamlText.Quote(renamed.GetValueOrDefault(dep, dep))}: {tendCondition}");
                }
                if (conditions.Count > 0) app.Set("depends_on", "{ " + string.Join(", ", conditions) + " }");
            }
            if (Probe(p, "readiness_probe", name, notes) is string ready) app.Set("ready", ready);
            if (Probe(p, "liveness_probe", name, notes) is string live) app.Set("live", live);

            if (Pm2Importer.Field(p, "availability") is YMapping availability)
            {
                switch (Pm2Importer.Text(Pm2Importer.Field(availability, "restart")))
                {
                    case "always": app.Set("restart", "always"); break;
                    case "on_failure": app.Set("restart", "on-failure"); break;
                    case "exit_on_failure":
                        app.Set("restart", "never");
                        app.Set("significant", "true");
                        notes.Add(new ImportNote(name, "availability.restart", ImportNoteKind.Approximated, "exit_on_failure: not restarted and significant (put it under a supervisor with auto_shutdown to end the rest with it)"));
                        break;
                    case null or "no": app.Set("restart", "never"); break;
                }
                if (Pm2Importer.Text(Pm2Importer.Field(availability, "backoff_seconds")) is string b && double.TryParse(b, CultureInfo.InvariantCulture, out double backoff))
                    app.Set("restart_delay", backoff.ToString(CultureInfo.InvariantCulture) + "s");
                if (Pm2Importer.Text(Pm2Importer.Field(availability, "max_restarts")) is string mr && int.TryParse(mr, out int maxRestarts) && maxRestarts > 0)
                    app.Number("max_restarts", maxRestarts);
            }
            else app.Set("restart", "never", "process-compose's default availability: no restart");

            if (Pm2Importer.Field(p, "shutdown") is YMapping shutdown)
            {
                if (Pm2Importer.Text(Pm2Importer.Field(shutdown, "signal")) is string sig) app.String("stop_signal", sig);
                if (Pm2Importer.Text(Pm2Importer.Field(shutdown, "timeout_seconds")) is string t && int.TryParse(t, out int timeout)) app.Set("kill_timeout", timeout + "s");
                if (Pm2Importer.Field(shutdown, "command") is not null)
                    notes.Add(new ImportNote(name, "shutdown.command", ImportNoteKind.Unmapped, "Tend stops with a signal; a stop command has no equivalent"));
            }
            if (Pm2Importer.Field(p, "log_location") is { } logLocation && Pm2Importer.Text(logLocation) is string logPath)
                app.Set("log", $"{{ out_file: {YamlText.Quote(Path.GetFullPath(logPath, baseDir))} }}");
            if (Pm2Importer.Field(p, "is_daemon") is YScalar { Value: "true" })
                notes.Add(new ImportNote(name, "is_daemon", ImportNoteKind.Unmapped, "Tend supervises the process it starts; run the program in the foreground"));
            foreach (var (pk, _) in p.Entries)
            {
                if (pk is YScalar { Value: var key } && !s_mapped.Contains(key))
                    notes.Add(new ImportNote(name, key, ImportNoteKind.Unmapped, "no equivalent in Tend"));
            }
            apps.Add(app);
        }
        foreach (var (k, _) in top.Entries)
        {
            if (k is YScalar { Value: var key } && key is not ("processes" or "version" or "environment"))
                notes.Add(new ImportNote("(file)", key, ImportNoteKind.Unmapped, "no equivalent in Tend"));
        }
        string header = $"Imported from {source} by `tend import process-compose`.";
        return new ImportResult("process-compose", source, ImportRenderer.Render(header, apps), notes, [.. apps.Select(a => a.Name)]);
    }

    private static IEnumerable<KeyValuePair<string, string>> EnvList(YNode node)
    {
        if (node is YMapping) return Pm2Importer.Pairs(node);
        return node is YSequence seq
            ? seq.Items.Select(Pm2Importer.Text).OfType<string>().Where(t => t.Contains('='))
                .Select(t => new KeyValuePair<string, string>(t[..t.IndexOf('=')], t[(t.IndexOf('=') + 1)..]))
            : [];
    }

    /// <summary>A readiness or liveness probe in Tend's form, or null.</summary>
    private static string? Probe(YMapping p, string key, string app, List<ImportNote> notes)
    {
        if (Pm2Importer.Field(p, key) is not YMapping probe) return null;
        var parts = new List<string>();
        if (Pm2Importer.Field(probe, "http_get") is YMapping http)
        {
            string scheme = Pm2Importer.Text(Pm2Importer.Field(http, "scheme")) ?? "http";
            string host = Pm2Importer.Text(Pm2Importer.Field(http, "host")) ?? "127.0.0.1";
            string port = Pm2Importer.Text(Pm2Importer.Field(http, "port")) ?? "80";
            string path = Pm2Importer.Text(Pm2Importer.Field(http, "path")) ?? "/";
            parts.Add("http: " + YamlText.Quote($"{scheme}://{host}:{port}{(path.StartsWith('/') ? path : "/" + path)}"));
        }
        else if (Pm2Importer.Field(probe, "exec") is YMapping exec && Pm2Importer.Text(Pm2Importer.Field(exec, "command")) is string command)
        {
            parts.Add("exec: " + YamlText.Quote(command));
        }
        else
        {
            notes.Add(new ImportNote(app, key, ImportNoteKind.Unmapped, "neither http_get nor exec"));
            return null;
        }
        void Seconds(string from, string to)
        {
            if (Pm2Importer.Text(Pm2Importer.Field(probe, from)) is string s && int.TryParse(s, out int n)) parts.Add($"{to}: {n}s");
        }
        Seconds("initial_delay_seconds", "initial_delay");
        Seconds("period_seconds", "interval");
        Seconds("timeout_seconds", "timeout");
        if (Pm2Importer.Text(Pm2Importer.Field(probe, "failure_threshold")) is string f && int.TryParse(f, out int ft)) parts.Add($"failure_threshold: {ft}");
        if (Pm2Importer.Text(Pm2Importer.Field(probe, "success_threshold")) is string st && int.TryParse(st, out int stn)) parts.Add($"success_threshold: {stn}");
        return "{ " + string.Join(", ", parts) + " }";
    }
}
