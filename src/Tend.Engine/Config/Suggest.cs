namespace Tend.Config;

/// <summary>"did you mean" for typos: the closest candidate by optimal string alignment distance.</summary>
internal static class Suggest
{
    /// <summary>
    /// The candidate nearest to <paramref name="input"/> if it is close enough to be a typo:
    /// at most 2 edits (1 for words of 4 letters or fewer, where 2 edits is a different word).
    /// Case and '-' versus '_' count as no edit at all.
    /// </summary>
    public static string? Nearest(string input, IEnumerable<string> candidates)
    {
        string normalInput = Normalize(input);
        string? best = null;
        int bestDistance = int.MaxValue;
        foreach (string candidate in candidates)
        {
            int d = Distance(normalInput, Normalize(candidate));
            if (d < bestDistance)
            {
                best = candidate;
                bestDistance = d;
            }
        }
        int allowed = Math.Min(normalInput.Length, best?.Length ?? 0) <= 4 ? 1 : 2;
        return best is not null && bestDistance <= allowed ? best : null;
    }

    /// <summary><c>; did you mean "x"?</c> or nothing.</summary>
    public static string DidYouMean(string input, IEnumerable<string> candidates) =>
        Nearest(input, candidates) is { } s ? $"; did you mean \"{s}\"?" : "";

    private static string Normalize(string s) => s.ToLowerInvariant().Replace('-', '_');

    /// <summary>Levenshtein plus adjacent transposition ("instnaces" is one edit from "instances").</summary>
    internal static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (int i = 0; i <= a.Length; i++) d[i, 0] = i;
        for (int j = 0; j <= b.Length; j++) d[0, j] = j;
        for (int i = 1; i <= a.Length; i++)
        {
            for (int j = 1; j <= b.Length; j++)
            {
                int cost = a[i - 1] == b[j - 1] ? 0 : 1;
                int v = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                {
                    v = Math.Min(v, d[i - 2, j - 2] + 1);
                }
                d[i, j] = v;
            }
        }
        return d[a.Length, b.Length];
    }
}
