namespace Tend.Config;

/// <summary>watch: of an app: true, a path, a list of paths, or the full mapping.</summary>
internal static class WatchSectionReader
{
    internal static readonly string[] s_keys = ["paths", "include", "ignore", "gitignore", "debounce", "action", "poll_interval", "max_watches"];

    private static readonly Dictionary<string, string> s_hints = new(StringComparer.Ordinal)
    {
        ["ignore_watch"] = "Tend calls it ignore",
        ["watch_delay"] = "Tend calls it debounce",
        ["path"] = "Tend calls it paths (one path or a list)",
        ["delay"] = "Tend calls it debounce",
    };

    /// <summary>The spec with <see cref="WatchSpec.Paths"/> as written (relative ones resolved later
    /// against the app's cwd); null for watch: false or an error.</summary>
    internal static WatchSpec? Read(NodeReader reader, YNode value, string field)
    {
        switch (value)
        {
            case YScalar { IsPlain: true, Value: "true" or "True" }:
                return new WatchSpec();
            case YScalar { IsPlain: true, Value: "false" or "False" }:
                return null;
            case YScalar or YSequence:
                return ReadList(reader, value, field, "a path or a list of paths") is { } paths ? new WatchSpec { Paths = paths } : null;
        }
        if (!reader.TryMapping(value, field, "true, a path, a list of paths, or a mapping with paths, include, ignore, debounce, action", out YMapping map))
            return null;
        int errorsBefore = reader.Errors.Count;
        var spec = new WatchSpec();
        foreach (var (key, _, node) in reader.Entries(map, field, s_keys, s_hints))
        {
            string f = field + "." + key;
            if (NodeReader.IsNull(node)) continue;
            switch (key)
            {
                case "paths":
                    if (ReadList(reader, node, f, "a path or a list of paths") is { } paths) spec = spec with { Paths = paths };
                    break;
                case "include":
                    if (ReadList(reader, node, f, "a pattern or a list of .gitignore patterns") is { } include) spec = spec with { Include = include };
                    break;
                case "ignore":
                    if (ReadList(reader, node, f, "a pattern or a list of .gitignore patterns") is { } ignore) spec = spec with { Ignore = ignore };
                    break;
                case "gitignore":
                    if (reader.TryBool(node, f, out bool gitignore)) spec = spec with { Gitignore = gitignore };
                    break;
                case "debounce":
                    if (reader.TryDuration(node, f, out TimeSpan debounce))
                    {
                        if (debounce < TimeSpan.Zero || debounce > TimeSpan.FromMinutes(10)) reader.Error(node, f, "must be between 0 and 10m");
                        else spec = spec with { Debounce = debounce };
                    }
                    break;
                case "action":
                    if (reader.TryString(node, f, out string action))
                    {
                        switch (action)
                        {
                            case "restart": spec = spec with { Action = WatchAction.Restart }; break;
                            case "reload": spec = spec with { Action = WatchAction.Reload }; break;
                            default: reader.Error(node, f, $"expected restart or reload, got \"{action}\""); break;
                        }
                    }
                    break;
                case "poll_interval":
                    if (reader.TryDuration(node, f, out TimeSpan poll))
                    {
                        if (poll < TimeSpan.FromMilliseconds(100)) reader.Error(node, f, "must be at least 100ms");
                        else spec = spec with { PollInterval = poll };
                    }
                    break;
                case "max_watches":
                    if (reader.TryInt(node, f, 1, int.MaxValue, out int max)) spec = spec with { MaxWatches = max };
                    break;
            }
        }
        return reader.Errors.Count > errorsBefore ? null : spec;
    }

    private static EquatableArray<string>? ReadList(NodeReader reader, YNode node, string field, string what)
    {
        if (node is YScalar)
        {
            if (reader.TryString(node, field, out string one) && CheckedItem(reader, node, field, one) is { } single) return new EquatableArray<string>([single]);
            return null;
        }
        if (node is not YSequence seq)
        {
            reader.Error(node, field, $"expected {what}, got {node.Describe()}");
            return null;
        }
        var items = new List<string>(seq.Items.Count);
        bool ok = true;
        for (int i = 0; i < seq.Items.Count; i++)
        {
            string f = $"{field}[{i}]";
            if (reader.TryString(seq.Items[i], f, out string text) && CheckedItem(reader, seq.Items[i], f, text) is { } item) items.Add(item);
            else ok = false;
        }
        return ok ? new EquatableArray<string>(items) : (EquatableArray<string>?)null;
    }

    private static string? CheckedItem(NodeReader reader, YNode node, string field, string text)
    {
        if (text.Trim().Length > 0) return text;
        reader.Error(node, field, "empty");
        return null;
    }

    /// <summary>Second pass: paths relative to the app's cwd, each of which must exist.</summary>
    internal static WatchSpec Resolve(NodeReader reader, YNode node, string field, WatchSpec spec, string cwd)
    {
        if (spec.Paths.Count == 0) return spec with { Paths = new EquatableArray<string>([cwd]) };
        var paths = new List<string>();
        foreach (string path in spec.Paths)
        {
            string full = Path.GetFullPath(Path.Combine(cwd, path));
            if (!Directory.Exists(full) && !File.Exists(full))
                reader.Error(node, field, $"\"{path}\" does not exist ({full})");
            paths.Add(full);
        }
        return spec with { Paths = new EquatableArray<string>(paths) };
    }
}
