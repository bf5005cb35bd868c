namespace Tend.Api;

/// <summary>
/// Environment values that look secret are masked wherever Tend shows a spec (describe, the API,
/// the dashboard); the process itself gets the real value. A name looks secret when one of its
/// words (split on _, -, . and camel case) is PASSWORD, PASSWD, PWD (but not the shell's PWD),
/// SECRET, TOKEN, KEY (API_KEY, APIKEY), CREDENTIAL(S), AUTH or PRIVATE, or when it names a
/// connection string (ConnectionStrings__Db, DB_CONNECTION_STRING, …). Any value holding a URL
/// with a password (postgres://user:pass@host) has that password masked whatever its name.
/// </summary>
public static class SecretMask
{
    public const string Mask = "********";

    private static readonly string[] s_secretWords =
        ["PASSWORD", "PASSWD", "SECRET", "SECRETS", "TOKEN", "TOKENS", "KEY", "APIKEY", "CREDENTIAL", "CREDENTIALS", "AUTH", "PRIVATE", "PASSPHRASE"];

    public static bool IsSecretName(string name)
    {
        if (name is "PWD" or "OLDPWD") return false;
        string upper = name.ToUpperInvariant();
        if (upper.Contains("CONNECTIONSTRING", StringComparison.Ordinal) || upper.Contains("CONNECTION_STRING", StringComparison.Ordinal)) return true;
        foreach (string word in Words(name))
        {
            if (s_secretWords.Contains(word) || word.EndsWith("PASSWORD", StringComparison.Ordinal) || word.EndsWith("APIKEY", StringComparison.Ordinal)
                || word.EndsWith("TOKEN", StringComparison.Ordinal) || word.EndsWith("SECRET", StringComparison.Ordinal) || word == "PWD")
                return true;
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

    /// <summary>scheme://user:password@host → scheme://user:********@host, anywhere in the value.</summary>
    public static string MaskUrlPassword(string value)
    {
        int scheme = value.IndexOf("://", StringComparison.Ordinal);
        while (scheme >= 0)
        {
            int start = scheme + 3;
            int at = value.IndexOf('@', start);
            int end = IndexOfAny(value, start, '/', ' ', '?', '#');
            if (at < 0 || (end >= 0 && at > end)) { scheme = value.IndexOf("://", start, StringComparison.Ordinal); continue; }
            int colon = value.IndexOf(':', start);
            if (colon > start && colon < at && value[(colon + 1)..at] != Mask)
                value = string.Concat(value.AsSpan(0, colon + 1), Mask, value.AsSpan(at));
            scheme = value.IndexOf("://", start, StringComparison.Ordinal);
        }
        return value;
    }

    private static int IndexOfAny(string value, int start, params char[] chars)
    {
        int i = value.IndexOfAny(chars, start);
        return i;
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
