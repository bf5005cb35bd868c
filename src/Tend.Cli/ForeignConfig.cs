using System.Globalization;
using System.Text;

namespace Tend.Cli;

/// <summary>
/// `tend start FILE` with another manager's config (a PM2 ecosystem file, a Procfile, a supervisord.conf,
/// a process-compose.yaml, a systemd unit): which files may be one, cheaply, before the engine's importers are asked
/// (EngineHandoff), and where the tend.yaml it becomes is kept.
/// </summary>
internal static class ForeignConfig
{
    /// <summary>
    /// False only for files that cannot be another manager's config: by name as the importers detect
    /// them, and for a .yaml/.json, when none of the words their shapes need (PM2's <c>script</c>,
    /// process-compose's <c>processes</c>) is in it. True means "ask the importers", which decide.
    /// </summary>
    public static bool MightBe(string path)
    {
        string name = Path.GetFileName(path).ToLowerInvariant();
        bool js = name.EndsWith(".js", StringComparison.Ordinal) || name.EndsWith(".cjs", StringComparison.Ordinal) || name.EndsWith(".mjs", StringComparison.Ordinal);
        if (js) return name.StartsWith("ecosystem", StringComparison.Ordinal) || name.Contains(".config.", StringComparison.Ordinal) || name.StartsWith("pm2", StringComparison.Ordinal);
        if (name == "dump.pm2" || name.StartsWith("ecosystem", StringComparison.Ordinal) || name.StartsWith("procfile", StringComparison.Ordinal)
            || name.StartsWith("process-compose", StringComparison.Ordinal))
            return true;
        if (name.EndsWith(".conf", StringComparison.Ordinal) || name.EndsWith(".ini", StringComparison.Ordinal) || name.EndsWith(".service", StringComparison.Ordinal)) return true;
        if (name.EndsWith(".json", StringComparison.Ordinal) || name.EndsWith(".yaml", StringComparison.Ordinal) || name.EndsWith(".yml", StringComparison.Ordinal))
        {
            string text;
            try { text = File.ReadAllText(path); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return false; }
            return text.Contains("script", StringComparison.Ordinal) || text.Contains("processes", StringComparison.Ordinal);
        }
        return false;
    }

    /// <summary>
    /// $TEND_HOME/imported/NAME-HASH.yaml (NAME-HASH.ENV.yaml with PM2's --env): one per source file and
    /// env, the same on every start of it, so starting it with another env does not rewrite the file
    /// the apps already running were started from (a restore reads it again).
    /// </summary>
    /// <param name="more">Further sources imported together with <paramref name="source"/> (systemd units): part of the name's hash.</param>
    public static string GeneratedPath(string home, string source, string? env = null, IReadOnlyList<string>? more = null) =>
        Path.Combine(home, "imported",
            $"{Path.GetFileName(source)}{(more is { Count: > 0 } ? "+" + more.Count.ToString(CultureInfo.InvariantCulture) : "")}-"
            + $"{Fnv1a(string.Join('\n', [Path.GetFullPath(source), .. more ?? []])).ToString("x8", CultureInfo.InvariantCulture)}{(env is null ? "" : "." + env)}.yaml");

    /// <summary>
    /// 32-bit FNV-1a of the path's UTF-8 bytes: a stable name, not a secret, so no cryptographic hash
    /// (the runtime's binds OpenSSL; Tend.Hashing's would link a digest library into the CLI for a
    /// file name) and no randomised string.GetHashCode.
    /// </summary>
    private static uint Fnv1a(string text)
    {
        uint hash = 2166136261;
        foreach (byte b in Encoding.UTF8.GetBytes(text)) hash = (hash ^ b) * 16777619;
        return hash;
    }
}
