namespace Tend.Config;

public static partial class ConfigLoader
{
    /// <summary>
    /// The spec for <c>tend start &lt;command...&gt;</c>: one app from a command line, checked
    /// the way a config file is (empty command, missing executable, bad name, missing cwd). A script
    /// that is not executable runs under the interpreter its extension names (<see cref="ScriptInterpreter"/>).
    /// Errors have no file or line; Field is "name", "command", "instances" or "cwd".
    /// </summary>
    /// <param name="name">The app name; null or empty derives it from the executable's file name ("server.py" → "server").</param>
    /// <param name="command">The executable. If <paramref name="args"/> is empty and no file by this exact name
    /// exists, a command with spaces is split like <c>run:</c> (so <c>tend start "node app.js"</c> works).</param>
    /// <param name="args">argv[1..].</param>
    /// <param name="instances">How many copies, ≥ 1 (the CLI turns "max" into <see cref="Environment.ProcessorCount"/>).</param>
    /// <param name="cwd">The working directory, relative to the current directory; must exist.</param>
    /// <param name="baseEnvironment">The environment the app gets, and whose PATH finds the executable.</param>
    /// <param name="settings">More of the app's tend.yaml keys as their scalar text (PM2's start flags:
    /// <c>max_memory</c>, <c>watch</c>, <c>restart</c>, …), read by the config loader exactly as in a file;
    /// errors name the key. "section.key" is a key of a section (<c>log.out_file</c>); a value that is a JSON
    /// array of strings is a list (<c>watch.ignore</c>).</param>
    /// <param name="cgroups">The daemon's cgroup tree, for what <paramref name="settings"/> may ask of it.</param>
    /// <param name="interpreter">PM2's --interpreter: the program that runs the command (python3 app.py); null
    /// lets the script's extension choose when it is not executable itself.</param>
    /// <param name="interpreterArgs">PM2's --interpreter-args (--node-args): the interpreter's own arguments, before
    /// the script. Without <paramref name="interpreter"/> they go to the one the extension chose; an executable
    /// that needs none is then an error (field "interpreter_args").</param>
    /// <exception cref="ConfigException">Any of the above is wrong.</exception>
    public static AppSpec FromCommand(
        string? name,
        string command,
        IReadOnlyList<string> args,
        int instances,
        string cwd,
        IReadOnlyDictionary<string, string> baseEnvironment,
        IReadOnlyDictionary<string, string>? settings = null,
        Isolation.CgroupTree? cgroups = null,
        string? interpreter = null,
        IReadOnlyList<string>? interpreterArgs = null)
    {
        var errors = new List<ConfigError>();
        void Error(string field, string message) => errors.Add(new ConfigError("", 0, 0, field, message));

        string fullCwd = Path.GetFullPath(cwd);
        bool cwdExists = Directory.Exists(fullCwd);
        if (!cwdExists) Error("cwd", $"directory \"{fullCwd}\" does not exist");

        List<string> argv = [command, .. args];
        bool splitFailed = false;
        if (args.Count == 0 && command.Any(char.IsWhiteSpace) && !File.Exists(Path.GetFullPath(command, fullCwd)))
        {
            splitFailed = !ShellWords.TrySplit(command, out var words, out string? splitError);
            argv = splitFailed ? [] : words.ConvertAll(w => w.Text);
            if (splitFailed) Error("command", splitError!);
        }

        // The name comes from what the user typed ("app.js" → "app"), not from an interpreter put before it.
        string? typed = argv.Count > 0 ? argv[0] : null;
        IReadOnlyList<string> extra = interpreterArgs ?? [];
        if (interpreter is not null && string.IsNullOrWhiteSpace(interpreter)) Error("interpreter", "empty interpreter");
        else if (interpreter is not null && argv.Count > 0) argv = [interpreter, .. extra, .. argv];
        else if (!splitFailed && cwdExists)
        {
            int typedCount = argv.Count;
            argv = ScriptInterpreter.Apply(argv, fullCwd, baseEnvironment);
            if (extra.Count > 0 && argv.Count == typedCount)
                Error("interpreter_args", $"\"{typed}\" runs by itself, so interpreter arguments have nothing to go to; name the interpreter (--interpreter)");
            else if (extra.Count > 0) argv.InsertRange(1, extra);
        }

        if (argv.Count == 0 || string.IsNullOrWhiteSpace(argv[0]))
        {
            if (!splitFailed) Error("command", "empty command");
        }
        else if (cwdExists || !argv[0].Contains('/') || Path.IsPathRooted(argv[0]))
        {
            if (AppFieldReader.CheckExecutable(argv[0], fullCwd, baseEnvironment) is { } message) Error("command", message);
        }

        if (string.IsNullOrEmpty(name)) name = typed is not null ? NameFromCommand(typed) : "app";
        if (ValidateName(name) is { } nameError) Error("name", nameError);
        if (instances < 1) Error("instances", $"expected a whole number ≥ 1, got {instances}");
        if (instances > Limits.MaxInstances) Error("instances", $"{instances} instances is more than the {Limits.MaxInstances} Tend allows per app");
        if (errors.Count > 0) throw new ConfigException(errors);

        var spec = new AppSpec
        {
            Name = name,
            Command = argv[0],
            Args = new EquatableArray<string>(argv.Skip(1)),
            Cwd = fullCwd,
            Env = new EquatableDictionary(baseEnvironment),
            Instances = instances,
        };
        foreach (var (field, message) in Limits.SpawnProblems(spec)) Error(field, message);
        if (errors.Count > 0) throw new ConfigException(errors);
        return settings is { Count: > 0 } ? WithSettings(spec, settings, baseEnvironment, cgroups) : spec;
    }

    /// <summary>Keys the command line itself sets; settings may not set them a second time.</summary>
    private static readonly HashSet<string> s_commandLineKeys = ["run", "cmd", "args", "cwd", "instances", "env", "env_file", "shell"];

    /// <summary>
    /// The spec with <paramref name="settings"/> applied: the app is written as a one-app config (JSON,
    /// which YAML reads) and loaded, so each key means and checks exactly what it does in a tend.yaml.
    /// </summary>
    private static AppSpec WithSettings(AppSpec spec, IReadOnlyDictionary<string, string> settings,
        IReadOnlyDictionary<string, string> baseEnvironment, Isolation.CgroupTree? cgroups)
    {
        if (settings.Keys.FirstOrDefault(s_commandLineKeys.Contains) is string taken)
            throw new ConfigException([new ConfigError("", 0, 0, taken, "is given by the command line itself, not as a setting")]);
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var json = new System.Text.Json.Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteStartObject("apps");
            json.WriteStartObject(spec.Name);
            json.WriteString("cmd", spec.Command);
            json.WriteStartArray("args");
            foreach (string arg in spec.Args) json.WriteStringValue(arg);
            json.WriteEndArray();
            json.WriteString("cwd", spec.Cwd);
            // "log.out_file" is out_file of the log: section; in key order a section's keys are together.
            string? section = null;
            foreach (var (key, value) in settings.OrderBy(s => s.Key, StringComparer.Ordinal))
            {
                int dot = key.IndexOf('.');
                string? keySection = dot > 0 ? key[..dot] : null;
                string leaf = dot > 0 ? key[(dot + 1)..] : key;
                if (keySection != section)
                {
                    if (section is not null) json.WriteEndObject();
                    if (keySection is not null) json.WriteStartObject(keySection);
                    section = keySection;
                }
                // A number or a boolean goes in as one (YAML would read the quoted form as text); a list
                // comes as a JSON array of strings (--ignore-watch's patterns).
                if (value is "true" or "false") json.WriteBoolean(leaf, value == "true");
                else if (value.StartsWith('[') && StringList(value) is { } list)
                {
                    json.WriteStartArray(leaf);
                    foreach (string item in list) json.WriteStringValue(item);
                    json.WriteEndArray();
                }
                else if (value.Length is > 0 and < 10 && value.All(char.IsAsciiDigit)) json.WriteNumber(leaf, long.Parse(value, System.Globalization.CultureInfo.InvariantCulture));
                else json.WriteString(leaf, value);
            }
            if (section is not null) json.WriteEndObject();
            json.WriteEndObject();
            json.WriteEndObject();
            json.WriteEndObject();
        }
        string text = System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
        string prefix = $"apps.{spec.Name}.";
        try
        {
            AppSpec loaded = Parse(text, Path.Combine(spec.Cwd, "(command line)"), baseEnvironment, cgroups).Apps.Single();
            return loaded with { Command = spec.Command, Args = spec.Args, Cwd = spec.Cwd, Env = spec.Env, Instances = spec.Instances };
        }
        catch (ConfigException e)
        {
            // The document is ours; what the user can act on is the key and what is wrong with its value.
            throw new ConfigException([.. e.Errors.Select(x => new ConfigError("", 0, 0, x.Field.StartsWith(prefix, StringComparison.Ordinal) ? x.Field[prefix.Length..] : x.Field, x.Message))]);
        }
    }

    /// <summary>A setting's value that is a JSON array of strings, or null for any other text (it is then a string).</summary>
    private static List<string>? StringList(string value)
    {
        try
        {
            using var document = System.Text.Json.JsonDocument.Parse(value);
            if (document.RootElement.ValueKind != System.Text.Json.JsonValueKind.Array) return null;
            var items = new List<string>();
            foreach (var item in document.RootElement.EnumerateArray())
            {
                if (item.ValueKind != System.Text.Json.JsonValueKind.String) return null;
                items.Add(item.GetString()!);
            }
            return items;
        }
        catch (System.Text.Json.JsonException) { return null; }
    }

    /// <summary>"./bin/server.py" → "server"; characters an app name cannot hold become '-'.</summary>
    private static string NameFromCommand(string command)
    {
        string stem = Path.GetFileNameWithoutExtension(command.TrimEnd('/'));
        var chars = stem.Select(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '-' ? c : '-').ToArray();
        string name = new string(chars).TrimStart('_', '.', '-');
        return name.Length == 0 || ValidateName(name) is not null ? "app" : name;
    }
}
