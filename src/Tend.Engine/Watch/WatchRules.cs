using MAB.DotIgnore;
using Tend.Config;

namespace Tend.Watch;

/// <summary>
/// Which paths of a watch: count (docs/config.md#watch). Patterns are .gitignore patterns (read by
/// MAB.DotIgnore), relative to the watched directory they belong to: the defaults (.git,
/// node_modules, …), the app's ignore:, and that directory's .gitignore. Tend's own files (the
/// app's log files, anything under TEND_HOME) never count, so writing a log line cannot restart
/// the app that wrote it. include:, when set, is what may count at all.
/// </summary>
internal sealed class WatchRules
{
    private readonly List<Root> _roots = [];
    private readonly string[] _ownPrefixes;

    /// <param name="ownPaths">Files and directories of Tend's own: a path equal to one, or under it, or one of its rotations (path.1), never counts.</param>
    public WatchRules(WatchSpec spec, IEnumerable<string> ownPaths)
    {
        _ownPrefixes = [.. ownPaths.Select(p => Path.TrimEndingDirectorySeparator(p))];
        foreach (string path in spec.Paths)
        {
            bool isFile = File.Exists(path) && !Directory.Exists(path);
            string dir = isFile ? Path.GetDirectoryName(path)! : Path.TrimEndingDirectorySeparator(path);
            var ignore = new IgnoreList(WatchSpec.DefaultIgnore);
            ignore.AddRules(spec.Ignore);
            string gitignore = Path.Combine(dir, ".gitignore");
            if (spec.Gitignore && File.Exists(gitignore))
            {
                try { ignore.AddRules(File.ReadAllLines(gitignore)); }
                catch (IOException) { } // unreadable: the rules written in tend.yaml still hold
                catch (UnauthorizedAccessException) { }
            }
            IgnoreList? include = spec.Include.Count > 0 ? new IgnoreList(spec.Include) : null;
            _roots.Add(new Root(dir, isFile ? path : null, ignore, include));
        }
        // The innermost root decides for a path under two of them.
        _roots.Sort((a, b) => b.Dir.Length.CompareTo(a.Dir.Length));
    }

    /// <summary>The directories to watch (a watched file's directory).</summary>
    public IEnumerable<string> Directories => _roots.Select(r => r.Dir).Distinct(StringComparer.Ordinal);

    /// <summary>True: do not watch this directory nor anything under it.</summary>
    public bool SkipDirectory(string dir)
    {
        if (IsOwn(dir)) return true;
        if (RootOf(dir) is not { } root) return true;
        if (root.File is not null) return dir != root.Dir; // a watched file: only its own directory
        string relative = Path.GetRelativePath(root.Dir, dir);
        return relative != "." && root.Ignore.IsIgnored(relative.Replace('\\', '/'), pathIsDirectory: true);
    }

    /// <summary>True: a change of this path is one to act on.</summary>
    public bool Counts(string path, bool isDirectory = false)
    {
        if (IsOwn(path) || RootOf(path) is not { } root) return false;
        if (root.File is not null) return path == root.File;
        string relative = Path.GetRelativePath(root.Dir, path).Replace('\\', '/');
        if (relative == ".") return false;
        // A path under an ignored directory is ignored, as git never looks inside one.
        string[] parts = relative.Split('/');
        for (int i = 1; i < parts.Length; i++)
        {
            if (root.Ignore.IsIgnored(string.Join('/', parts, 0, i), pathIsDirectory: true)) return false;
        }
        if (root.Ignore.IsIgnored(relative, isDirectory)) return false;
        return root.Include is null || isDirectory || root.Include.IsIgnored(relative, pathIsDirectory: false);
    }

    private bool IsOwn(string path)
    {
        foreach (string own in _ownPrefixes)
        {
            if (path.StartsWith(own, StringComparison.Ordinal) &&
                (path.Length == own.Length || path[own.Length] is '/' or '.')) return true;
        }
        return false;
    }

    private Root? RootOf(string path)
    {
        foreach (Root root in _roots)
        {
            if (path == root.Dir || path.StartsWith(root.Dir + "/", StringComparison.Ordinal)) return root;
        }
        return null;
    }

    private sealed record Root(string Dir, string? File, IgnoreList Ignore, IgnoreList? Include);
}
