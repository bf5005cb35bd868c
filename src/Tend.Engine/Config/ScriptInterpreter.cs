namespace Tend.Config;

/// <summary>
/// `tend start app.js` as PM2 users type it: a script named on the command line is run by the
/// interpreter its extension names when the file is not executable itself (an executable file runs
/// as it is, so its #! line decides). PM2 does the same by extension (its table: the PM2 importer
/// uses this one too); Tend leaves an executable file alone because its #! may ask for a particular
/// interpreter (python3.12, a virtualenv's python).
/// </summary>
internal static class ScriptInterpreter
{
    private static readonly Dictionary<string, string> s_byExtension = new(StringComparer.OrdinalIgnoreCase)
    {
        [".js"] = "node",
        [".cjs"] = "node",
        [".mjs"] = "node",
        [".ts"] = "ts-node",
        [".py"] = "python3",
        [".sh"] = "bash",
        [".rb"] = "ruby",
        [".php"] = "php",
        [".pl"] = "perl",
        [".coffee"] = "coffee",
    };

    /// <summary>The interpreter for a script file by its extension, or null when Tend knows none.</summary>
    public static string? ForFile(string path) => s_byExtension.GetValueOrDefault(Path.GetExtension(path));

    /// <summary>
    /// The command line to run for <paramref name="argv"/>: unchanged unless argv[0] names an existing
    /// file (by a path, or a bare name found in <paramref name="cwd"/> but not on PATH, as PM2 takes
    /// `app.js`) that is not executable and has a known extension; then the interpreter comes first and
    /// the script is given by its absolute path. A bare name found in cwd and executable becomes its
    /// absolute path, so `tend start server` runs ./server as PM2 would.
    /// </summary>
    public static List<string> Apply(List<string> argv, string cwd, IReadOnlyDictionary<string, string> environment)
    {
        if (argv.Count == 0 || string.IsNullOrWhiteSpace(argv[0])) return argv;
        string first = argv[0];
        string? file;
        if (first.Contains('/'))
        {
            file = Path.GetFullPath(first, cwd);
        }
        else
        {
            environment.TryGetValue("PATH", out string? path);
            if (ExecutableLookup.Find(first, cwd, path, out _) == ExecutableLookup.Outcome.Found) return argv;
            file = Path.GetFullPath(first, cwd);
        }
        if (!File.Exists(file)) return argv;
        if (Tend.Identity.ProcessIdentity.CanExecute(file)) return first.Contains('/') ? argv : [file, .. argv.Skip(1)];
        return ForFile(file) is string interpreter ? [interpreter, file, .. argv.Skip(1)] : argv;
    }
}
