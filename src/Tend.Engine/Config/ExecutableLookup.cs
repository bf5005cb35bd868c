namespace Tend.Config;

/// <summary>
/// Finds the file a command would run, the way execvp would, so a config that names a
/// missing program fails at load time with a clear message instead of as a crash loop.
/// </summary>
internal static class ExecutableLookup
{

    public enum Outcome { Found, NotFound, NotExecutable }

    /// <summary>
    /// A command with a '/' is taken relative to <paramref name="cwd"/>; a bare name is
    /// searched on <paramref name="pathVariable"/> (empty entries mean the current directory,
    /// as POSIX says). <paramref name="resolved"/> is the file found, or the candidate that was
    /// not executable.
    /// </summary>
    public static Outcome Find(string command, string cwd, string? pathVariable, out string? resolved)
    {
        resolved = null;
        if (command.Contains('/'))
        {
            string full = Path.GetFullPath(command, cwd);
            if (!File.Exists(full)) return Outcome.NotFound;
            resolved = full;
            return IsExecutable(full) ? Outcome.Found : Outcome.NotExecutable;
        }

        Outcome outcome = Outcome.NotFound;
        foreach (string dir in (pathVariable ?? "").Split(':'))
        {
            string candidate = Path.GetFullPath(command, dir.Length == 0 ? cwd : Path.GetFullPath(dir, cwd));
            if (!File.Exists(candidate)) continue;
            if (IsExecutable(candidate))
            {
                resolved = candidate;
                return Outcome.Found;
            }
            resolved ??= candidate;
            outcome = Outcome.NotExecutable;
        }
        return outcome;
    }

    // access(2) rather than the mode bits: it answers for this process's user and groups,
    // which is who will exec the program (root passes if any x bit is set, as exec requires).
    private static bool IsExecutable(string path) => Tend.Identity.ProcessIdentity.CanExecute(path);
}
