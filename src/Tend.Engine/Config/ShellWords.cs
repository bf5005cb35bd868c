using System.Text;

namespace Tend.Config;

/// <summary>
/// Splits a command line into words the way a POSIX shell does, without running one:
/// whitespace separates words; '...' is literal; "..." is literal except that a backslash
/// escapes " \ $ ` and newline; outside quotes a backslash escapes any character and
/// backslash-newline joins lines. No globbing, no variables, no operators: a `|` or `&gt;`
/// is just a word, which is why <see cref="ShellOperators"/> exists for callers to warn about it.
/// </summary>
internal static class ShellWords
{
    /// <summary>Words that mean something to a shell but would reach the program verbatim here.</summary>
    public static IReadOnlySet<string> ShellOperators { get; } =
        new HashSet<string>(StringComparer.Ordinal) { "|", "||", "&", "&&", ";", ">", ">>", "<", "2>", "2>&1", ">&2", "&>" };

    public readonly record struct Word(string Text, bool Quoted);

    /// <summary>Splits <paramref name="line"/>; on failure returns false and a message naming the 1-based character where the problem starts.</summary>
    public static bool TrySplit(string line, out List<Word> words, out string? error)
    {
        words = [];
        error = null;
        var current = new StringBuilder();
        bool inWord = false, quoted = false;
        int i = 0;
        while (i < line.Length)
        {
            char c = line[i];
            switch (c)
            {
                case ' ' or '\t' or '\n' or '\r':
                    if (inWord) words.Add(new Word(current.ToString(), quoted));
                    current.Clear();
                    inWord = quoted = false;
                    i++;
                    break;

                case '\'':
                {
                    int close = line.IndexOf('\'', i + 1);
                    if (close < 0)
                    {
                        error = $"unterminated single quote (opened at character {i + 1})";
                        return false;
                    }
                    current.Append(line, i + 1, close - i - 1);
                    inWord = quoted = true;
                    i = close + 1;
                    break;
                }

                case '"':
                {
                    int open = i++;
                    while (true)
                    {
                        if (i >= line.Length)
                        {
                            error = $"unterminated double quote (opened at character {open + 1})";
                            return false;
                        }
                        char d = line[i];
                        if (d == '"') { i++; break; }
                        if (d == '\\' && i + 1 < line.Length && line[i + 1] is '"' or '\\' or '$' or '`' or '\n')
                        {
                            if (line[i + 1] != '\n') current.Append(line[i + 1]);
                            i += 2;
                            continue;
                        }
                        current.Append(d);
                        i++;
                    }
                    inWord = quoted = true;
                    break;
                }

                case '\\':
                    if (i + 1 >= line.Length)
                    {
                        error = $"a lone backslash ends the command (character {i + 1}); write \\\\ for a literal backslash";
                        return false;
                    }
                    if (line[i + 1] != '\n')
                    {
                        current.Append(line[i + 1]);
                        inWord = quoted = true;
                    }
                    i += 2;
                    break;

                default:
                    current.Append(c);
                    inWord = true;
                    i++;
                    break;
            }
        }
        if (inWord) words.Add(new Word(current.ToString(), quoted));
        return true;
    }

    /// <summary>Convenience for callers that only want the strings; throws <see cref="FormatException"/> on a bad line.</summary>
    public static List<string> Split(string line) =>
        TrySplit(line, out var words, out var error) ? words.ConvertAll(w => w.Text) : throw new FormatException(error);
}
