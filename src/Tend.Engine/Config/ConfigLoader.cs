using System.Text.RegularExpressions;

namespace Tend.Config;

/// <summary>
/// Turns tend.yaml (or JSON) into a validated <see cref="TendConfig"/>, or a
/// <see cref="ConfigException"/> listing every problem with file, line, column and field.
/// </summary>
/// <remarks>
/// Two stages, as the style guide asks for: the text becomes a position-carrying node tree
/// (<see cref="YamlTreeReader"/>), then each app is read key by key into a draft and resolved
/// against the file system (cwd, env files, the executable) into an immutable spec. A config
/// with any error produces no specs at all, so a bad reload never half-applies.
/// This class is the entry and the top level; each section has its own reader, all writing to
/// one <see cref="NodeReader"/> (errors with file, line and field) through one
/// <see cref="ConfigFileContext"/>: <see cref="AppSectionReader"/> (an app's keys, then their
/// resolution), <see cref="AppFieldReader"/> (the value of each key), <see cref="EnvSectionReader"/>,
/// <see cref="HealthSectionReader"/> (ready:, live:), <see cref="ListenSectionReader"/> and
/// <see cref="TreeSectionReader"/> (supervisors:, root:, depends_on:), <see cref="AlertSectionReader"/> (alerts:, channels:).
/// </remarks>
public static partial class ConfigLoader
{
    private static readonly string[] s_topLevelKeys = ["apps", "version", "supervisors", "root", "alerts", "channels", "diagnostics"];
    private const int SupportedVersion = 1;

    /// <summary>Reads and validates the config file at <paramref name="path"/>.</summary>
    /// <param name="baseEnvironment">The environment apps inherit (the CLI's, like PM2); env_file and env override it.</param>
    /// <param name="cgroups">The daemon's cgroup tree: resources: it cannot enforce are errors. Null: not checked.</param>
    /// <exception cref="ConfigException">The file is missing, unreadable or invalid.</exception>
    public static TendConfig Load(string path, IReadOnlyDictionary<string, string> baseEnvironment, Isolation.CgroupTree? cgroups = null)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new ConfigException([new ConfigError(path, 0, 0, "", "config file not found")]);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ConfigException([new ConfigError(path, 0, 0, "", "cannot read config file: " + e.Message)]);
        }
        return Parse(text, path, baseEnvironment, cgroups);
    }

    /// <summary>
    /// Validates config <paramref name="text"/> as if read from <paramref name="path"/>: errors
    /// name that path, and relative paths (cwd, env_file, logs) resolve against its directory.
    /// </summary>
    /// <exception cref="ConfigException">The text is invalid.</exception>
    public static TendConfig Parse(string text, string path, IReadOnlyDictionary<string, string> baseEnvironment, Isolation.CgroupTree? cgroups = null)
    {
        var errors = new List<ConfigError>();
        var reader = new NodeReader(path, errors);
        string fullPath = Path.GetFullPath(path);
        var context = new ConfigFileContext(reader, Path.GetDirectoryName(fullPath)!, Path.GetDirectoryName(path) ?? "", baseEnvironment, new TreeSectionReader.TreeDraft())
        {
            Cgroups = cgroups,
        };

        YNode? root = YamlTreeReader.Read(text, path, errors);
        if (errors.Count > 0) throw new ConfigException(errors);
        if (root is null || NodeReader.IsNull(root))
        {
            throw new ConfigException([new ConfigError(path, 0, 0, "", "the config is empty; declare your programs under apps:")]);
        }
        if (root is not YMapping top)
        {
            reader.Error(root, "", $"expected a mapping with apps: at the top, got {root.Describe()}");
            throw new ConfigException(errors);
        }

        // Top-level keys starting with x- are ignored, as in Compose files: a place to park
        // YAML anchors (x-defaults: &defaults) that apps then merge with <<: *defaults.
        var ownKeys = new YMapping(top.Start, top.Entries.Where(e => e.Key is not YScalar { Value: ['x', '-', ..] }).ToList());

        var apps = new List<AppSpec>();
        bool sawApps = false;
        foreach (var (key, keyNode, value) in reader.Entries(ownKeys, "", s_topLevelKeys))
        {
            switch (key)
            {
                case "apps":
                    sawApps = true;
                    ReadApps(context, value, apps);
                    break;
                case "version":
                    if (reader.TryInt(value, "version", 1, int.MaxValue, out int version) && version != SupportedVersion)
                    {
                        reader.Error(value, "version", $"unsupported version {version}; this Tend reads version {SupportedVersion}");
                    }
                    break;
                case "supervisors":
                    TreeSectionReader.ReadSupervisors(context, value);
                    break;
                case "root":
                    TreeSectionReader.ReadRoot(context, keyNode, value);
                    break;
                case "alerts":
                    AlertSectionReader.ReadAlerts(context, value);
                    break;
                case "channels":
                    AlertSectionReader.ReadChannels(context, value);
                    break;
                case "diagnostics":
                    AlertSectionReader.ReadDiagnostics(context, value);
                    break;
            }
        }
        if (!sawApps)
        {
            reader.Error(top, "", "missing apps:; declare at least one app under it");
        }
        else
        {
            TreeSectionReader.ValidateTree(context);
        }
        AlertsSpec alerts = AlertSectionReader.Validate(context);

        if (errors.Count > 0) throw new ConfigException(errors);
        return new TendConfig(fullPath, new EquatableArray<AppSpec>(apps))
        {
            Tree = new TreeSpec(new EquatableArray<SupervisorSpec>(context.Tree.Supervisors.Where(s => s.Spec is not null).Select(s => s.Spec!)))
            {
                RootMaxRestarts = context.Tree.RootMaxRestarts,
                RootWithin = context.Tree.RootWithin,
            },
            Alerts = alerts,
        };
    }

    private static void ReadApps(ConfigFileContext context, YNode value, List<AppSpec> apps)
    {
        NodeReader reader = context.Reader;
        if (value is YSequence)
        {
            reader.Error(value, "apps", "expected a mapping of app name to settings, got a list (a PM2 ecosystem file needs importing first)");
            return;
        }
        if (NodeReader.IsNull(value) || value is YMapping { Entries.Count: 0 })
        {
            reader.Error(value, "apps", "no apps declared; declare at least one");
            return;
        }
        if (!reader.TryMapping(value, "apps", "a mapping of app name to settings", out YMapping map)) return;

        var seen = new Dictionary<string, YNode>(StringComparer.Ordinal);
        foreach (var (keyNode, appNode) in map.Entries)
        {
            if (keyNode is not YScalar { IsNull: false } nameScalar)
            {
                reader.Error(keyNode, "apps", $"expected an app name, got {keyNode.Describe()}");
                continue;
            }
            string name = nameScalar.Value;
            string field = "apps." + name;
            if (seen.TryGetValue(name, out YNode? first))
            {
                reader.Error(keyNode, field, $"duplicate app \"{name}\"; first defined at line {first.Start.Line}");
                continue;
            }
            seen.Add(name, keyNode);
            context.Tree.AppNames.TryAdd(name, keyNode);
            if (ValidateName(name) is { } nameError)
            {
                reader.Error(keyNode, field, nameError);
                continue;
            }
            if (AppSectionReader.ReadApp(context, name, keyNode, appNode) is { } spec) apps.Add(spec);
        }
    }

    /// <summary>Null if <paramref name="name"/> is a good app name, else why not.</summary>
    internal static string? ValidateName(string name, string kind = "app")
    {
        if (name.Length == 0) return kind == "app" ? "an app name may not be empty" : $"a {kind} name may not be empty";
        if (string.Equals(name, "all", StringComparison.OrdinalIgnoreCase))
        {
            return "\"all\" is reserved: commands use it to mean every app";
        }
        if (name.Length > Limits.MaxNameLength)
        {
            return $"{kind} name \"{name[..20]}…\" is {name.Length} characters; at most {Limits.MaxNameLength}";
        }
        if (!AppNamePattern().IsMatch(name))
        {
            return $"invalid {kind} name \"{name}\": use letters, digits, '_', '.' and '-', starting with a letter or digit";
        }
        return null;
    }

    // \z, not $: $ would also accept a trailing newline.
    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9_.-]*\z")]
    private static partial Regex AppNamePattern();
}
