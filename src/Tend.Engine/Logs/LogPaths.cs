using Tend.Config;

namespace Tend.Logs;

/// <summary>Where an instance's logs live.</summary>
public static class LogPaths
{
    /// <summary>$TEND_HOME/logs</summary>
    public static string LogsDirectory(string tendHome) => Path.Combine(tendHome, "logs");

    /// <summary>$TEND_HOME/logs/&lt;app&gt;-&lt;instance&gt;.out.log (or .err.log).</summary>
    public static string Default(string tendHome, string app, int instance, LogStream stream) =>
        Path.Combine(LogsDirectory(tendHome), $"{app}-{instance}.{(stream == LogStream.Out ? "out" : "err")}.log");

    /// <summary>Replaces every {app} and {instance} in a configured path.</summary>
    public static string Expand(string template, string app, int instance) =>
        template.Replace("{app}", app, StringComparison.Ordinal)
            .Replace("{instance}", instance.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);

    /// <summary>
    /// The absolute log path of one stream of one instance: the configured file with its
    /// placeholders expanded (relative paths taken against <paramref name="baseDirectory"/>,
    /// normally the app's cwd), or the default under <paramref name="tendHome"/>.
    /// </summary>
    public static string Resolve(LogSpec spec, LogStream stream, string app, int instance, string tendHome, string baseDirectory)
    {
        ArgumentNullException.ThrowIfNull(spec);
        string? configured = stream == LogStream.Out ? spec.OutFile : spec.ErrFile;
        if (string.IsNullOrEmpty(configured))
            return Path.GetFullPath(Default(tendHome, app, instance, stream));
        return Path.GetFullPath(Expand(configured, app, instance), baseDirectory);
    }
}
