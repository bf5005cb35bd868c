namespace Tend.Security;

/// <summary>
/// What Tend never shows: the one masking function for everything that leaves the daemon (the
/// mapping to the wire, the event stream, daemon.log). The process itself gets the real values.
/// <list type="bullet">
/// <item><b>By name</b> (<see cref="IsSecretName"/>): the name is split into words on <c>_ - . :</c>
/// and camel case, trailing digits and a plural S dropped (X_PASSWORD2, DB_PASSWORDS). A word is
/// secret when it contains PASSWORD, PASSWD, PASSPHRASE, SECRET or CREDENTIAL; ends with TOKEN
/// or KEY (API_KEY, SECRETKEY, SIGNINGKEY; not MONKEY, HOCKEY, TURKEY, DONKEY, JOCKEY, WHISKEY);
/// ends with PASS (DB_PASS, PGPASS; not BYPASS, COMPASS, SURPASS, TRESPASS); or is PWD, PAT,
/// AUTH, AUTHORIZATION, COOKIE or PRIVATE. The shell's PWD and OLDPWD are not secret. A name
/// holding CONNECTIONSTRING or CONNECTION_STRING is secret.</item>
/// <item><b>In any text</b> (<see cref="MaskUrlPassword"/>): the password of every
/// <c>scheme://user:password@host</c>, parsed rather than pattern-matched: the userinfo runs to
/// the last @ of the URL, so a password holding / # ? or @ is masked whole, and an empty user
/// (<c>redis://:pw@host</c>) is handled.</item>
/// </list>
/// </summary>
public static class SecretMask
{
    public const string Mask = "********";

    private static readonly string[] s_containing = ["PASSWORD", "PASSWD", "PASSPHRASE", "SECRET", "CREDENTIAL"];
    private static readonly string[] s_exact = ["PWD", "PAT", "AUTH", "AUTHORIZATION", "COOKIE", "PRIVATE"];
    private static readonly string[] s_notKeys = ["MONKEY", "DONKEY", "HOCKEY", "JOCKEY", "TURKEY", "WHISKEY"];
    private static readonly string[] s_notPass = ["BYPASS", "COMPASS", "SURPASS", "TRESPASS", "OVERPASS", "UNDERPASS"];

    public static bool IsSecretName(string name)
    {
        if (name is "PWD" or "OLDPWD") return false;
        string upper = name.ToUpperInvariant();
        if (upper.Contains("CONNECTIONSTRING", StringComparison.Ordinal) || upper.Contains("CONNECTION_STRING", StringComparison.Ordinal)) return true;
        foreach (string raw in Words(name))
        {
            string word = raw.TrimEnd("0123456789".ToCharArray());
            if (word.Length > 1 && word.EndsWith('S') && !word.EndsWith("SS", StringComparison.Ordinal)) word = word[..^1];
            if (word.Length == 0) continue;
            if (s_containing.Any(w => word.Contains(w, StringComparison.Ordinal))) return true;
            if (s_exact.Contains(word)) return true;
            if (word.EndsWith("TOKEN", StringComparison.Ordinal)) return true;
            if (word.EndsWith("KEY", StringComparison.Ordinal) && !s_notKeys.Contains(word)) return true;
            if (word.EndsWith("PASS", StringComparison.Ordinal) && !s_notPass.Contains(word)) return true;
        }
        return false;
    }

    /// <summary>The value to show for <paramref name="name"/>.</summary>
    public static string Value(string name, string value)
    {
        if (value.Length == 0) return value;
        if (IsSecretName(name)) return Mask;
        return MaskUrlPassword(value);
    }

    public static IReadOnlyDictionary<string, string> Environment(IReadOnlyDictionary<string, string> env)
    {
        var masked = new Dictionary<string, string>(env.Count, StringComparer.Ordinal);
        foreach (var (k, v) in env) masked[k] = Value(k, v);
        return masked;
    }

    /// <summary>Any text with every URL password masked (see the class remarks); null stays null.</summary>
    public static string? Text(string? text) => text is null ? null : MaskUrlPassword(text);

    /// <summary>scheme://user:password@host → scheme://user:********@host, anywhere in the value.</summary>
    public static string MaskUrlPassword(string value)
    {
        int scheme = value.IndexOf("://", StringComparison.Ordinal);
        while (scheme >= 0)
        {
            int start = scheme + 3;
            // The URL runs to whitespace, a quote or the end: a password may hold / ? # or @ unescaped.
            int end = value.AsSpan(start).IndexOfAny(" \t\r\n\"'<>");
            end = end < 0 ? value.Length : start + end;
            int at = value.LastIndexOf('@', end - 1, end - start);
            if (at > start)
            {
                int colon = value.IndexOf(':', start, at - start);
                // The user part is a name: a / ? or # before the colon means this @ is in a path, not userinfo.
                bool userinfo = colon >= 0 && value.AsSpan(start, colon - start).IndexOfAny("/?#") < 0;
                if (userinfo && colon + 1 < at && value.AsSpan(colon + 1, at - colon - 1).SequenceCompareTo(Mask) != 0)
                {
                    value = string.Concat(value.AsSpan(0, colon + 1), Mask, value.AsSpan(at));
                    end = end - (at - colon - 1) + Mask.Length;
                }
            }
            scheme = end < value.Length ? value.IndexOf("://", end, StringComparison.Ordinal) : -1;
        }
        return value;
    }

    /// <summary>DB_PASSWORD → DB, PASSWORD; apiKey → API, KEY; ConnectionStrings__Main → CONNECTION, STRINGS, MAIN.</summary>
    private static IEnumerable<string> Words(string name)
    {
        var word = new System.Text.StringBuilder();
        for (int i = 0; i < name.Length; i++)
        {
            char c = name[i];
            bool boundary = c is '_' or '-' or '.' or ':';
            bool camel = i > 0 && char.IsUpper(c) && char.IsLower(name[i - 1]);
            if ((boundary || camel) && word.Length > 0)
            {
                yield return word.ToString().ToUpperInvariant();
                word.Clear();
            }
            if (!boundary) word.Append(c);
        }
        if (word.Length > 0) yield return word.ToString().ToUpperInvariant();
    }
}
