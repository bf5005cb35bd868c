using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace Tend.Config;

// Why not YamlStream / YamlMappingNode: the representation model throws on the first
// duplicate key, reporting only the second occurrence, and stops loading. We want every
// duplicate reported with both lines and the rest of the file still checked. So we build
// this small tree from YamlDotNet's own event parser instead: same scanner, same marks,
// but mappings keep every entry (duplicates included) and the validator decides.

/// <summary>A 1-based position in the source text.</summary>
internal readonly record struct SourcePos(int Line, int Column)
{
    public static SourcePos From(Mark mark) => new((int)mark.Line, (int)mark.Column);
}

internal abstract class YNode(SourcePos start)
{
    public SourcePos Start { get; } = start;

    /// <summary>For "expected X, got a mapping" messages.</summary>
    public abstract string Describe();
}

internal sealed class YScalar(SourcePos start, string value, bool isPlain) : YNode(start)
{
    public string Value { get; } = value;

    /// <summary>Plain (unquoted, untagged): only then do null and true/false have their YAML meaning.</summary>
    public bool IsPlain { get; } = isPlain;

    /// <summary>YAML 1.2 core schema null: an empty plain scalar, ~ or null.</summary>
    public bool IsNull => IsPlain && Value is "" or "~" or "null" or "Null" or "NULL";

    public override string Describe() => IsNull ? "nothing" : $"\"{Value}\"";
}

internal sealed class YMapping(SourcePos start, List<KeyValuePair<YNode, YNode>> entries) : YNode(start)
{
    /// <summary>Every entry in document order, duplicates included, merge keys (&lt;&lt;) already applied.</summary>
    public List<KeyValuePair<YNode, YNode>> Entries { get; } = entries;

    public override string Describe() => "a mapping";
}

internal sealed class YSequence(SourcePos start, List<YNode> items) : YNode(start)
{
    public List<YNode> Items { get; } = items;

    public override string Describe() => "a list";
}

/// <summary>Reads YAML (and therefore JSON) text into a <see cref="YNode"/> tree, reporting syntax errors.</summary>
internal sealed class YamlTreeReader
{
    private const int MaxDepth = 64;

    private readonly IParser _parser;
    private readonly Dictionary<string, YNode> _anchors = new(StringComparer.Ordinal);
    private readonly string _file;
    private readonly List<ConfigError> _errors;
    private readonly Stack<(SourcePos Pos, char Bracket)> _openFlows = new();
    private SourcePos _lastPos = new(1, 1);

    private YamlTreeReader(string text, string file, List<ConfigError> errors)
    {
        _parser = new Parser(new StringReader(text));
        _file = file;
        _errors = errors;
    }

    /// <summary>The root node of the first document, or null when the text is empty or has a syntax error.</summary>
    public static YNode? Read(string text, string file, List<ConfigError> errors) =>
        new YamlTreeReader(text, file, errors).ReadStream();

    private YNode? ReadStream()
    {
        try
        {
            Consume<StreamStart>();
            if (_parser.Current is StreamEnd) return null;
            Consume<DocumentStart>();
            YNode root = ReadNode(0);
            Consume<DocumentEnd>();
            if (_parser.Current is DocumentStart next)
            {
                var pos = SourcePos.From(next.Start);
                _errors.Add(new ConfigError(_file, pos.Line, pos.Column, "",
                    "expected one YAML document, found a second one here"));
                return null;
            }
            return root;
        }
        catch (YamlException e)
        {
            var pos = SourcePos.From(e.Start);
            _errors.Add(new ConfigError(_file, pos.Line, pos.Column, "", "invalid YAML: " + Tidy(e.Message)));
            return null;
        }
        catch (InvalidOperationException)
        {
            // YamlDotNet's scanner sometimes fails this way instead of with a YamlException
            // (seen on a flow sequence left open at the end of a line). The innermost open [ or {
            // is the likeliest culprit; failing that, the last event we saw.
            (SourcePos pos, string message) = _openFlows.TryPeek(out var open)
                ? (open.Pos, $"invalid YAML: the parser gave up inside this {open.Bracket}; is it closed?")
                : (_lastPos, "invalid YAML: could not parse the text after this point");
            _errors.Add(new ConfigError(_file, pos.Line, pos.Column, "", message));
            return null;
        }
    }

    private YNode ReadNode(int depth)
    {
        if (depth > MaxDepth)
        {
            throw new YamlException(_parser.Current!.Start, _parser.Current.End, $"Nesting deeper than {MaxDepth} levels.");
        }

        ParsingEvent current = _parser.Current ?? throw new YamlException("Unexpected end of stream.");
        var start = SourcePos.From(current.Start);
        _lastPos = start;
        switch (current)
        {
            case AnchorAlias alias:
                _parser.MoveNext();
                if (_anchors.TryGetValue(alias.Value.Value, out YNode? target)) return target;
                throw new YamlException(alias.Start, alias.End, $"Alias *{alias.Value.Value} refers to no anchor.");

            case Scalar scalar:
            {
                _parser.MoveNext();
                bool plain = scalar.Style == ScalarStyle.Plain && scalar.Tag.IsEmpty;
                var node = new YScalar(start, scalar.Value, plain);
                Remember(scalar.Anchor, node);
                return node;
            }

            case SequenceStart sequenceStart:
            {
                _parser.MoveNext();
                var items = new List<YNode>();
                var node = new YSequence(start, items);
                Remember(sequenceStart.Anchor, node);
                bool flow = sequenceStart.Style == SequenceStyle.Flow;
                if (flow) _openFlows.Push((start, '['));
                while (_parser.Current is not SequenceEnd) items.Add(ReadNode(depth + 1));
                if (flow) _openFlows.Pop();
                _parser.MoveNext();
                return node;
            }

            case MappingStart mappingStart:
            {
                _parser.MoveNext();
                var entries = new List<KeyValuePair<YNode, YNode>>();
                var merges = new List<YNode>();
                bool flow = mappingStart.Style == MappingStyle.Flow;
                if (flow) _openFlows.Push((start, '{'));
                while (_parser.Current is not MappingEnd)
                {
                    YNode key = ReadNode(depth + 1);
                    YNode value = ReadNode(depth + 1);
                    if (key is YScalar { IsPlain: true, Value: "<<" }) merges.Add(value);
                    else entries.Add(new(key, value));
                }
                if (flow) _openFlows.Pop();
                _parser.MoveNext();
                ApplyMerges(entries, merges);
                var node = new YMapping(start, entries);
                Remember(mappingStart.Anchor, node);
                return node;
            }

            default:
                throw new YamlException(current.Start, current.End, $"Unexpected {current.GetType().Name}.");
        }
    }

    /// <summary>
    /// YAML merge keys (<c>&lt;&lt;: *defaults</c>): keys written in the mapping win, then earlier
    /// merge sources over later ones. Merged entries keep the positions of their source.
    /// </summary>
    private void ApplyMerges(List<KeyValuePair<YNode, YNode>> entries, List<YNode> merges)
    {
        if (merges.Count == 0) return;
        var present = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (key, _) in entries)
        {
            if (key is YScalar s) present.Add(s.Value);
        }
        foreach (YNode merge in merges)
        {
            IEnumerable<YNode> sources = merge is YSequence seq ? seq.Items : [merge];
            foreach (YNode source in sources)
            {
                if (source is not YMapping map)
                {
                    _errors.Add(new ConfigError(_file, source.Start.Line, source.Start.Column, "",
                        $"a merge key (<<) needs a mapping or a list of mappings, got {source.Describe()}"));
                    continue;
                }
                foreach (var entry in map.Entries)
                {
                    if (entry.Key is YScalar k && present.Add(k.Value)) entries.Add(entry);
                }
            }
        }
    }

    private void Remember(AnchorName anchor, YNode node)
    {
        if (!anchor.IsEmpty) _anchors[anchor.Value] = node;
    }

    private void Consume<T>() where T : ParsingEvent
    {
        if (_parser.Current is null) _parser.MoveNext();
        if (_parser.Current is not T)
        {
            var ev = _parser.Current!;
            throw new YamlException(ev.Start, ev.End, $"Expected {typeof(T).Name}, got {ev.GetType().Name}.");
        }
        _lastPos = SourcePos.From(_parser.Current.Start);
        _parser.MoveNext();
    }

    /// <summary>"While parsing a block mapping, did not find expected key." → "while parsing a block mapping, did not find expected key".</summary>
    private static string Tidy(string message)
    {
        message = message.Trim().TrimEnd('.');
        return message.Length > 0 ? char.ToLowerInvariant(message[0]) + message[1..] : message;
    }
}
