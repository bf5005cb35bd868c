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
    /// <remarks>
    /// A configured path without {instance} is instance 0's; instance N writes beside it as
    /// PM2 splits files by id (out.log → out-1.log), so instances never share a file (whose
    /// rotation and `tend logs` would each see twice). Instance 0 keeps the path as written, so
    /// a one-instance app writes exactly there and scaling never moves it. Devices (/dev/null,
    /// /dev/stdout) are not split.
    /// </remarks>
    public static string Resolve(LogSpec spec, LogStream stream, string app, int instance, string tendHome, string baseDirectory)
    {
        ArgumentNullException.ThrowIfNull(spec);
        string? configured = stream == LogStream.Out ? spec.OutFile : spec.ErrFile;
        if (string.IsNullOrEmpty(configured))
            return Path.GetFullPath(Default(tendHome, app, instance, stream));
        string path = Path.GetFullPath(Expand(configured, app, instance), baseDirectory);
        if (instance == 0 || configured.Contains("{instance}", StringComparison.Ordinal) || IsDevice(path)) return path;
        return PerInstance(path, instance);
    }

    /// <summary>out.log → out-2.log, app.out → app.out-2 (the number before a .log extension, else at the end).</summary>
    internal static string PerInstance(string path, int instance)
    {
        string number = "-" + instance.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return path.EndsWith(".log", StringComparison.Ordinal) ? path[..^4] + number + ".log" : path + number;
    }

    private static bool IsDevice(string path) =>
        path.StartsWith("/dev/", StringComparison.Ordinal) || path.StartsWith("/proc/", StringComparison.Ordinal);
}
