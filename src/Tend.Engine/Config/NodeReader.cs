using System.Globalization;

namespace Tend.Config;

/// <summary>
/// Reads typed values out of a <see cref="YNode"/> tree and records an error, with
/// position and field, for anything of the wrong shape. Every Try method reports its
/// own error, so callers only decide what to do when it fails.
/// </summary>
internal sealed class NodeReader(string file, List<ConfigError> errors)
{
    public string File { get; } = file;
    public List<ConfigError> Errors { get; } = errors;

    public void Error(YNode node, string field, string message) => Error(node.Start, field, message);

    public void Error(SourcePos pos, string field, string message) =>
        Errors.Add(new ConfigError(File, pos.Line, pos.Column, field, message));

    public static bool IsNull(YNode node) => node is YScalar { IsNull: true };

    /// <summary>
    /// The entries of a mapping whose keys are known, in document order. Non-string keys,
    /// duplicates (reported with the first line) and unknown keys (with a suggestion, or a
    /// specific hint) become errors and are skipped.
    /// </summary>
    public IEnumerable<(string Key, YNode KeyNode, YNode Value)> Entries(
        YMapping map, string field, IReadOnlyCollection<string> known, IReadOnlyDictionary<string, string>? hints = null)
    {
        var seen = new Dictionary<string, YNode>(StringComparer.Ordinal);
        foreach (var (keyNode, value) in map.Entries)
        {
            if (keyNode is not YScalar { IsNull: false } keyScalar)
            {
                Error(keyNode, field, $"expected a key name, got {keyNode.Describe()}");
                continue;
            }
            string key = keyScalar.Value;
            string keyField = Join(field, key);
            if (seen.TryGetValue(key, out YNode? first))
            {
                Error(keyNode, keyField, $"duplicate key \"{key}\"; first defined at line {first.Start.Line}");
                continue;
            }
            seen.Add(key, keyNode);
            if (!known.Contains(key))
            {
                string message = hints is not null && hints.TryGetValue(key, out string? hint)
                    ? $"unknown key \"{key}\"; {hint}"
                    : $"unknown key \"{key}\"{Suggest.DidYouMean(key, known)}";
                Error(keyNode, keyField, message);
                continue;
            }
            yield return (key, keyNode, value);
        }
    }

    public bool TryMapping(YNode node, string field, string what, out YMapping map)
    {
        if (node is YMapping m)
        {
            map = m;
            return true;
        }
        map = null!;
        Error(node, field, $"expected {what}, got {node.Describe()}");
        return false;
    }

    public bool TryString(YNode node, string field, out string value)
    {
        if (node is YScalar { IsNull: false } s)
        {
            value = s.Value;
            return NoNul(s, field);
        }
        value = "";
        Error(node, field, $"expected a string, got {node.Describe()}");
        return false;
    }

    /// <summary>A string, number or bool as written: env values are text, whatever YAML thinks.</summary>
    public bool TryText(YNode node, string field, out string value)
    {
        if (node is YScalar s)
        {
            value = s.IsNull ? "" : s.Value;
            return NoNul(s, field);
        }
        value = "";
        Error(node, field, $"expected a string, number or true/false, got {node.Describe()}");
        return false;
    }

    /// <summary>Every string of a config ends up in an argv, a path or the environment, none of which can hold a NUL.</summary>
    private bool NoNul(YScalar s, string field)
    {
        if (!s.Value.Contains('\0')) return true;
        Error(s, field, "contains a NUL character (\\0), which no program can receive");
        return false;
    }

    public bool TryInt(YNode node, string field, int min, int max, out int value)
    {
        value = 0;
        string range = max == int.MaxValue ? $"≥ {min}" : $"{min}..{max}";
        if (node is YScalar { IsNull: false } s
            && int.TryParse(s.Value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int n)
            && n >= min && n <= max)
        {
            value = n;
            return true;
        }
        Error(node, field, $"expected a whole number {range}, got {node.Describe()}");
        return false;
    }

    public bool TryDouble(YNode node, string field, double min, double max, out double value)
    {
        value = 0;
        string range = double.IsPositiveInfinity(max)
            ? $"≥ {min.ToString(CultureInfo.InvariantCulture)}"
            : $"{min.ToString(CultureInfo.InvariantCulture)}..{max.ToString(CultureInfo.InvariantCulture)}";
        if (node is YScalar { IsNull: false } s
            && double.TryParse(s.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out double d)
            && double.IsFinite(d) && d >= min && d <= max)
        {
            value = d;
            return true;
        }
        Error(node, field, $"expected a number {range}, got {node.Describe()}");
        return false;
    }

    public bool TryBool(YNode node, string field, out bool value)
    {
        value = false;
        if (node is YScalar { IsNull: false } s)
        {
            switch (s.Value)
            {
                case "true" or "True" or "TRUE":
                    value = true;
                    return true;
                case "false" or "False" or "FALSE":
                    return true;
            }
        }
        Error(node, field, $"expected true or false, got {node.Describe()}");
        return false;
    }

    public bool TryDuration(YNode node, string field, out TimeSpan value)
    {
        if (node is YScalar { IsNull: false } s && Units.TryParseDuration(s.Value, out value)) return true;
        value = TimeSpan.Zero;
        Error(node, field, $"expected a duration like 500ms, 10s, 2m or 1h, got {node.Describe()}");
        return false;
    }

    public bool TrySize(YNode node, string field, out long value)
    {
        if (node is YScalar { IsNull: false } s && Units.TryParseSize(s.Value, out value) && value > 0) return true;
        value = 0;
        Error(node, field, $"expected a size like 512K, 200M or 1G, got {node.Describe()}");
        return false;
    }

    public static string Join(string field, string key) => field.Length == 0 ? key : field + "." + key;
}
