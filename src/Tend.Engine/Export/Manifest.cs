using System.Collections;
using System.Globalization;
using System.Text;
using Tend.Config.Import;

namespace Tend.Export;

/// <summary>
/// A Kubernetes object as an ordered mapping: keys come out in the order they were added, so the
/// output is the same bytes for the same input. Null values are left out. Values are strings,
/// numbers, booleans, <see cref="KMap"/>s and lists of those.
/// </summary>
internal sealed class KMap : IEnumerable<KeyValuePair<string, object>>
{
    private readonly List<KeyValuePair<string, object>> _items = [];

    public void Add(string key, object? value)
    {
        if (value is null) return;
        _items.Add(new(key, value));
    }

    public object? this[string key] => _items.FirstOrDefault(i => i.Key == key).Value;

    public int Count => _items.Count;

    public IEnumerator<KeyValuePair<string, object>> GetEnumerator() => _items.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}

/// <summary>Writes <see cref="KMap"/>s as block YAML, the way kubectl's own output looks: two-space
/// indents, list items under their key, strings quoted only when YAML would read them as something else.</summary>
internal static class ManifestYaml
{
    /// <summary>One document: its comment lines (# …), then the object.</summary>
    public static string Document(KMap obj, IEnumerable<string> comments)
    {
        var text = new StringBuilder();
        foreach (string comment in comments) text.Append("# ").Append(comment).Append('\n');
        WriteMap(text, obj, 0);
        return text.ToString();
    }

    private static void WriteMap(StringBuilder text, KMap map, int indent)
    {
        foreach (var (key, value) in map) WriteEntry(text, key, value, indent);
    }

    private static void WriteEntry(StringBuilder text, string key, object value, int indent)
    {
        text.Append(' ', indent).Append(YamlText.Quote(key)).Append(':');
        switch (value)
        {
            case KMap { Count: 0 }:
                text.Append(" {}\n");
                break;
            case KMap map:
                text.Append('\n');
                WriteMap(text, map, indent + 2);
                break;
            case IList { Count: 0 }:
                text.Append(" []\n");
                break;
            case IList list:
                text.Append('\n');
                foreach (object item in list) WriteItem(text, item, indent + 2);
                break;
            default:
                text.Append(' ').Append(Scalar(value)).Append('\n');
                break;
        }
    }

    private static void WriteItem(StringBuilder text, object item, int indent)
    {
        text.Append(' ', indent).Append("- ");
        if (item is KMap { Count: > 0 } map)
        {
            bool first = true;
            foreach (var (key, value) in map)
            {
                if (first)
                {
                    // The first entry on the dash's line: write it at indent + 2 and drop those spaces.
                    var entry = new StringBuilder();
                    WriteEntry(entry, key, value, indent + 2);
                    text.Append(entry.ToString(indent + 2, entry.Length - indent - 2));
                    first = false;
                }
                else WriteEntry(text, key, value, indent + 2);
            }
            return;
        }
        text.Append(item is KMap ? "{}" : Scalar(item)).Append('\n');
    }

    private static string Scalar(object value) => value switch
    {
        string s => YamlText.Quote(s),
        bool b => b ? "true" : "false",
        int i => i.ToString(CultureInfo.InvariantCulture),
        long l => l.ToString(CultureInfo.InvariantCulture),
        double d => d.ToString("0.###", CultureInfo.InvariantCulture),
        _ => YamlText.Quote(Convert.ToString(value, CultureInfo.InvariantCulture) ?? ""),
    };
}
