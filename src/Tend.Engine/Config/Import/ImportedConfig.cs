using System.Globalization;
using System.Text;

namespace Tend.Config.Import;

/// <summary>What one key of the source file became: mapped as is, approximated, or not mapped, and why.</summary>
public enum ImportNoteKind
{
    /// <summary>Mapped, but not exactly the same thing (the generated file has a comment there too).</summary>
    Approximated,
    /// <summary>No equivalent: left out, and why.</summary>
    Unmapped,
    /// <summary>The source manager's default differs from Tend's and was written out explicitly.</summary>
    DefaultCarried,
}

/// <summary>One line of an import report.</summary>
public sealed record ImportNote(string App, string Key, ImportNoteKind Kind, string Why)
{
    public override string ToString() => Kind switch
    {
        ImportNoteKind.Unmapped => $"{App}: {Key}: not mapped: {Why}",
        ImportNoteKind.DefaultCarried => $"{App}: {Key}: {Why}",
        _ => $"{App}: {Key}: approximated: {Why}",
    };
}

/// <summary>The result of an import: the tend.yaml text, and every key that was not a plain one-to-one mapping.</summary>
public sealed record ImportResult(string Kind, string Source, string Yaml, IReadOnlyList<ImportNote> Notes, IReadOnlyList<string> Apps);

/// <summary>
/// An app as an importer builds it, rendered as readable YAML: keys in the order people read them,
/// strings quoted only when YAML needs it, and a comment above whatever was approximated.
/// </summary>
internal sealed class ImportedApp(string name)
{
    public string Name { get; } = name;
    private readonly List<(string Key, string Yaml, string? Comment)> _keys = [];

    public IReadOnlyList<(string Key, string Yaml, string? Comment)> Keys => _keys;

    public ImportedApp Set(string key, string yaml, string? comment = null)
    {
        int at = _keys.FindIndex(k => k.Key == key);
        if (at >= 0) _keys[at] = (key, yaml, comment ?? _keys[at].Comment);
        else _keys.Add((key, yaml, comment));
        return this;
    }

    public bool Has(string key) => _keys.Any(k => k.Key == key);

    public ImportedApp String(string key, string value, string? comment = null) => Set(key, YamlText.Quote(value), comment);

    public ImportedApp Number(string key, long value, string? comment = null) => Set(key, value.ToString(CultureInfo.InvariantCulture), comment);

    public ImportedApp List(string key, IEnumerable<string> values, string? comment = null) =>
        Set(key, "[" + string.Join(", ", values.Select(YamlText.Quote)) + "]", comment);

    public ImportedApp Map(string key, IEnumerable<KeyValuePair<string, string>> values, string? comment = null)
    {
        var pairs = values.ToList();
        if (pairs.Count == 0) return this;
        var text = new StringBuilder();
        foreach (var (k, v) in pairs) text.Append("\n      ").Append(YamlText.Quote(k)).Append(": ").Append(YamlText.Quote(v));
        return Set(key, text.ToString(), comment);
    }
}

/// <summary>Renders imported apps (and what else an importer declares) as a tend.yaml.</summary>
internal static class ImportRenderer
{
    public static string Render(string header, IReadOnlyList<ImportedApp> apps, string? trailer = null)
    {
        var text = new StringBuilder();
        foreach (string line in header.Split('\n')) text.Append("# ").Append(line).Append('\n');
        text.Append("apps:\n");
        foreach (ImportedApp app in apps)
        {
            text.Append("  ").Append(YamlText.Quote(app.Name)).Append(":\n");
            foreach (var (key, yaml, comment) in app.Keys)
            {
                if (comment is not null)
                    foreach (string line in comment.Split('\n')) text.Append("    # ").Append(line).Append('\n');
                text.Append("    ").Append(key).Append(':');
                if (!yaml.StartsWith('\n')) text.Append(' ');
                text.Append(yaml).Append('\n');
            }
        }
        if (trailer is not null) text.Append(trailer);
        return text.ToString();
    }
}

/// <summary>YAML scalars as Tend's reader reads them back.</summary>
internal static class YamlText
{
    /// <summary>Plain when it is unambiguously a string in YAML, else double-quoted with JSON escapes (a subset of YAML's).</summary>
    public static string Quote(string value)
    {
        if (value.Length > 0 && IsPlainSafe(value)) return value;
        var text = new StringBuilder("\"");
        foreach (char c in value)
        {
            switch (c)
            {
                case '"': text.Append("\\\""); break;
                case '\\': text.Append("\\\\"); break;
                case '\n': text.Append("\\n"); break;
                case '\t': text.Append("\\t"); break;
                case '\r': text.Append("\\r"); break;
                default:
                    if (char.IsControl(c)) text.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    else text.Append(c);
                    break;
            }
        }
        return text.Append('"').ToString();
    }

    private static bool IsPlainSafe(string s)
    {
        // Words YAML would read as something other than a string.
        if (s is "true" or "false" or "yes" or "no" or "on" or "off" or "null" or "~" or "True" or "False" or "Yes" or "No" or "NULL" or "Null") return false;
        if (double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out _)) return false;
        if (" -?:,[]{}#&*!|>'\"%@`".Contains(s[0]) || s.EndsWith(' ') || s.EndsWith(':')) return false;
        foreach (char c in s)
        {
            if (char.IsControl(c) || c is '#' or '{' or '}' or '[' or ']' or ',' or '"' or '\'') return false;
        }
        return !s.Contains(": ", StringComparison.Ordinal) && !s.Contains(" #", StringComparison.Ordinal);
    }
}
