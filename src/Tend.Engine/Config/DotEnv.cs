using System.Text;

namespace Tend.Config;

/// <summary>
/// Reads dotenv files: <c>KEY=value</c>, optional <c>export </c> prefix, <c>#</c> comment lines,
/// blank lines. Unquoted values are trimmed and end at " #". '...' is literal; "..." knows
/// \n \t \r \" \\ and \$. No variable expansion and no multi-line values: a file that needs
/// them is better served by env: in tend.yaml, where YAML has real multi-line strings.
/// </summary>
internal static class DotEnv
{
    public readonly record struct Problem(int Line, int Column, string Message);

    /// <summary>Parses <paramref name="text"/>; later lines win over earlier ones with the same key.</summary>
    public static List<KeyValuePair<string, string>> Parse(string text, List<Problem> problems)
    {
        var result = new List<KeyValuePair<string, string>>();
        if (text.StartsWith('\uFEFF')) text = text[1..];
        string[] lines = text.Split('\n');
        for (int n = 0; n < lines.Length; n++)
        {
            string line = lines[n].TrimEnd('\r');
            int lineNo = n + 1;
            int i = SkipSpaces(line, 0);
            if (i == line.Length || line[i] == '#') continue;

            if (line.AsSpan(i).StartsWith("export ") || line.AsSpan(i).StartsWith("export\t"))
            {
                i = SkipSpaces(line, i + "export".Length);
            }

            int keyStart = i;
            while (i < line.Length && (char.IsAsciiLetterOrDigit(line[i]) || line[i] is '_' or '.' or '-')) i++;
            string key = line[keyStart..i];
            i = SkipSpaces(line, i);
            if (key.Length == 0 || char.IsAsciiDigit(key[0]) || i == line.Length || line[i] != '=')
            {
                problems.Add(new Problem(lineNo, keyStart + 1, "expected KEY=value"));
                continue;
            }
            i = SkipSpaces(line, i + 1);

            if (TryReadValue(line, i, out string? value, out Problem problem, lineNo))
            {
                result.Add(new(key, value!));
            }
            else
            {
                problems.Add(problem);
            }
        }
        return result;
    }

    private static bool TryReadValue(string line, int i, out string? value, out Problem problem, int lineNo)
    {
        value = null;
        problem = default;
        if (i == line.Length)
        {
            value = "";
            return true;
        }

        char quote = line[i];
        if (quote is not ('\'' or '"'))
        {
            int end = line.Length;
            for (int j = i; j < line.Length; j++)
            {
                if (line[j] == '#' && line[j - 1] is ' ' or '\t') { end = j; break; }
            }
            value = line[i..end].TrimEnd();
            return true;
        }

        var text = new StringBuilder();
        int k = i + 1;
        while (true)
        {
            if (k >= line.Length)
            {
                problem = new Problem(lineNo, i + 1, quote == '"'
                    ? "unterminated double quote (multi-line values are not supported)"
                    : "unterminated single quote (multi-line values are not supported)");
                return false;
            }
            char c = line[k];
            if (c == quote) { k++; break; }
            if (quote == '"' && c == '\\' && k + 1 < line.Length)
            {
                char e = line[k + 1];
                string? escaped = e switch
                {
                    'n' => "\n", 't' => "\t", 'r' => "\r", '"' => "\"", '\\' => "\\", '$' => "$",
                    _ => null,
                };
                if (escaped is not null)
                {
                    text.Append(escaped);
                    k += 2;
                    continue;
                }
            }
            text.Append(c);
            k++;
        }

        k = SkipSpaces(line, k);
        if (k < line.Length && line[k] != '#')
        {
            problem = new Problem(lineNo, k + 1, "unexpected text after the closing quote");
            return false;
        }
        value = text.ToString();
        return true;
    }

    private static int SkipSpaces(string line, int i)
    {
        while (i < line.Length && line[i] is ' ' or '\t') i++;
        return i;
    }
}
