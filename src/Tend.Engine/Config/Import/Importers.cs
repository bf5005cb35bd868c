namespace Tend.Config.Import;

/// <summary>What an import is asked for beyond the file.</summary>
/// <param name="Env">PM2's --env NAME: env_NAME goes over env.</param>
/// <param name="Formation">Procfile: instances per process type (web=2,worker=1; all=N for every type).</param>
public sealed record ImportOptions(string? Env = null, IReadOnlyDictionary<string, int>? Formation = null, IReadOnlyDictionary<string, string>? BaseEnvironment = null);

/// <summary>
/// The importers (docs/import.md): which kind a file is, and turning it into tend.yaml text that
/// validates, with a report of everything that was not a one-to-one mapping. A PM2 file written in
/// JavaScript arrives here already evaluated to JSON (the CLI runs it with node).
/// </summary>
public static class Importers
{
    public static readonly string[] Kinds = ["pm2", "procfile", "supervisord", "process-compose", "systemd"];

    /// <summary>The kind of a file Tend can import, judged by its name and then its content; null for anything else (a tend.yaml).</summary>
    public static string? Detect(string path)
    {
        string name = Path.GetFileName(path).ToLowerInvariant();
        // A script (server.js) is not a config: only PM2's own names are (ecosystem.config.js, *.config.js, pm2.json, dump.pm2).
        bool js = name.EndsWith(".js", StringComparison.Ordinal) || name.EndsWith(".cjs", StringComparison.Ordinal) || name.EndsWith(".mjs", StringComparison.Ordinal);
        if (js && (name.StartsWith("ecosystem", StringComparison.Ordinal) || name.Contains(".config.", StringComparison.Ordinal) || name.StartsWith("pm2", StringComparison.Ordinal)))
            return "pm2";
        if (name == "dump.pm2" || (name.StartsWith("ecosystem", StringComparison.Ordinal) && !js)) return "pm2";
        if (name.StartsWith("procfile", StringComparison.Ordinal)) return "procfile";
        if (name.StartsWith("process-compose", StringComparison.Ordinal)) return "process-compose";
        if (name.EndsWith(".service", StringComparison.Ordinal)) return "systemd";
        if (name.EndsWith(".conf", StringComparison.Ordinal) || name.EndsWith(".ini", StringComparison.Ordinal))
            return ReadHead(path).Contains("[program:", StringComparison.Ordinal) ? "supervisord" : null;
        if (name.EndsWith(".json", StringComparison.Ordinal) || name.EndsWith(".yaml", StringComparison.Ordinal) || name.EndsWith(".yml", StringComparison.Ordinal))
        {
            // By shape, not by words: a tend.yaml's apps: is a mapping, PM2's a list; process-compose has processes:.
            var errors = new List<ConfigError>();
            YNode? root;
            try { root = YamlTreeReader.Read(File.ReadAllText(path), path, errors); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
            switch (root)
            {
                case YMapping top when Pm2Importer.Field(top, "apps") is YSequence:
                    return "pm2";
                case YMapping top when Pm2Importer.Field(top, "processes") is YMapping && Pm2Importer.Field(top, "apps") is null:
                    return "process-compose";
                case YSequence { Items: [YMapping first, ..] } when Pm2Importer.Field(first, "script") is not null:
                    return "pm2";
            }
        }
        return null;
    }

    /// <summary>
    /// Import <paramref name="path"/> as <paramref name="kind"/>. <paramref name="evaluated"/> is the
    /// file's content as JSON when it was JavaScript (else the file is read). The result is checked
    /// with the config loader as if written beside the source file.
    /// </summary>
    /// <exception cref="ImportException">The file cannot be read as that kind.</exception>
    /// <exception cref="ConfigException">The generated file does not validate (a bug, or a value no importer could fix).</exception>
    /// <summary>Several systemd units into one tend.yaml (their dependencies on each other become depends_on:), checked as <see cref="Import"/> is.</summary>
    public static ImportResult ImportSystemdUnits(IReadOnlyList<string> paths, ImportOptions options)
    {
        string[] full = [.. paths.Select(p => Path.GetFullPath(p))];
        ImportResult result = SystemdImporter.Import(full, string.Join(", ", full));
        ConfigLoader.Parse(result.Yaml, Path.Combine(Path.GetDirectoryName(full[0])!, "tend.yaml"), options.BaseEnvironment ?? new Dictionary<string, string>());
        return result;
    }

    public static ImportResult Import(string kind, string path, string? evaluated, ImportOptions options)
    {
        string full = Path.GetFullPath(path);
        string dir = Path.GetDirectoryName(full)!;
        string text = evaluated ?? Read(full);
        ImportResult result = kind switch
        {
            "pm2" => Pm2Importer.Import(Tree(text, full), full, dir, options.Env),
            "procfile" => ProcfileImporter.Import(text, full, dir, options.Formation ?? new Dictionary<string, int>()),
            "supervisord" => SupervisordImporter.Import(full, full),
            "process-compose" => ProcessComposeImporter.Import(Tree(text, full), full, dir),
            "systemd" => SystemdImporter.Import(full, full),
            _ => throw new ImportException($"unknown kind \"{kind}\": one of {string.Join(", ", Kinds)}"),
        };
        // What it wrote must be a config Tend takes; checked here, not at the user's first start.
        ConfigLoader.Parse(result.Yaml, Path.Combine(dir, "tend.yaml"), options.BaseEnvironment ?? new Dictionary<string, string>());
        return result;
    }

    /// <summary>A PM2 dump (~/.pm2/dump.pm2: the processes PM2 ran, with their runtime state) as an ecosystem's apps.</summary>
    public static string DumpToEcosystem(string dumpJson, IReadOnlyDictionary<string, string> currentEnvironment)
    {
        var errors = new List<ConfigError>();
        if (YamlTreeReader.Read(dumpJson, "dump.pm2", errors) is not YSequence processes)
            throw new ImportException("the dump is not a list of processes");
        using var buffer = new MemoryStream();
        using (var w = new System.Text.Json.Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteStartArray("apps");
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (YNode p in processes.Items)
            {
                if (p is not YMapping m) continue;
                string? name = Pm2Importer.Text(Pm2Importer.Field(m, "name"));
                // Cluster instances appear once per instance in a dump: one app.
                if (name is null || !seen.Add(name)) continue;
                w.WriteStartObject();
                w.WriteString("name", name);
                Copy(w, m, "pm_exec_path", "script");
                Copy(w, m, "pm_cwd", "cwd");
                Copy(w, m, "exec_interpreter", "interpreter");
                Copy(w, m, "pm_out_log_path", "out_file");
                Copy(w, m, "pm_err_log_path", "error_file");
                foreach (string key in new[] { "instances", "exec_mode", "autorestart", "max_restarts", "min_uptime", "restart_delay", "exp_backoff_restart_delay", "max_memory_restart", "kill_timeout", "merge_logs", "increment_var", "cron_restart", "watch" })
                    Copy(w, m, key, key);
                if (Pm2Importer.Field(m, "args") is YSequence args)
                {
                    w.WriteStartArray("args");
                    foreach (YNode a in args.Items) w.WriteStringValue(Pm2Importer.Text(a) ?? "");
                    w.WriteEndArray();
                }
                if (Pm2Importer.Field(m, "node_args") is YSequence nodeArgs && nodeArgs.Items.Count > 0)
                {
                    w.WriteStartArray("node_args");
                    foreach (YNode a in nodeArgs.Items) w.WriteStringValue(Pm2Importer.Text(a) ?? "");
                    w.WriteEndArray();
                }
                // The dump holds the whole environment PM2 saw; only what differs from this one is the app's.
                var env = Pm2Importer.Pairs(Pm2Importer.Field(m, "env"))
                    .Where(e => !e.Key.StartsWith("PM2_", StringComparison.Ordinal) && e.Key is not ("pm_id" or "name" or "NODE_APP_INSTANCE" or "unique_id")
                        && (!currentEnvironment.TryGetValue(e.Key, out string? same) || same != e.Value))
                    .ToList();
                if (env.Count > 0)
                {
                    w.WriteStartObject("env");
                    foreach (var (k, v) in env) w.WriteString(k, v);
                    w.WriteEndObject();
                }
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static void Copy(System.Text.Json.Utf8JsonWriter w, YMapping m, string from, string to)
    {
        if (Pm2Importer.Field(m, from) is not YScalar s || s.IsNull) return;
        if (s.IsPlain && (s.Value is "true" or "false")) w.WriteBoolean(to, s.Value == "true");
        else if (s.IsPlain && long.TryParse(s.Value, out long n)) w.WriteNumber(to, n);
        else w.WriteString(to, s.Value);
    }

    private static YNode Tree(string text, string source)
    {
        var errors = new List<ConfigError>();
        YNode? root = YamlTreeReader.Read(text, source, errors);
        if (errors.Count > 0) throw new ImportException(string.Join("\n", errors.Select(e => e.ToString())));
        return root ?? throw new ImportException($"{source} is empty");
    }

    private static string Read(string path)
    {
        try { return File.ReadAllText(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new ImportException($"cannot read {path}: {e.Message}"); }
    }

    private static string ReadHead(string path)
    {
        try
        {
            using var reader = new StreamReader(path);
            var buffer = new char[8192];
            int n = reader.ReadBlock(buffer, 0, buffer.Length);
            return new string(buffer, 0, n);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return ""; }
    }
}
