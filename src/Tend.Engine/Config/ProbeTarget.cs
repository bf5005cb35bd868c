using System.Text.RegularExpressions;

namespace Tend.Config;

/// <summary>
/// `${NAME}` in an http or tcp probe's target, replaced per instance from the instance's
/// environment: its `increment_var`, `PORT` in proxy mode, `TEND_INSTANCE`, or anything in `env:`.
/// That is how a probe reaches one instance rather than an address every instance shares (an admin
/// port per instance: `http://127.0.0.1:${ADMIN_PORT}/ready`).
/// </summary>
public static partial class ProbeTarget
{
    [GeneratedRegex(@"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", RegexOptions.CultureInvariant)]
    private static partial Regex Variable();

    public static bool HasVariables(string target) => target.Contains("${", StringComparison.Ordinal);

    /// <summary>The target with every `${NAME}` replaced; an unset name becomes empty (the check then fails and says so).</summary>
    public static string Expand(string target, IReadOnlyDictionary<string, string> environment) =>
        HasVariables(target) ? Variable().Replace(target, m => environment.TryGetValue(m.Groups[1].Value, out string? v) ? v : "") : target;

    /// <summary>The target with a stand-in port number for each variable, to check its shape at load time.</summary>
    public static string ForValidation(string target) => HasVariables(target) ? Variable().Replace(target, "1") : target;
}
