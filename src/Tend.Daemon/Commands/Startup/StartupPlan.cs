using System.Text.RegularExpressions;
using Tend.Config;
using Tend.Isolation;
using Tend.State;
using Tend.Daemon.Commands;

namespace Tend.Daemon.Commands.Startup;

/// <summary>What `tend startup` asked for, before anything is looked up.</summary>
/// <param name="CurrentTend">The `tend` that was run, when the CLI could tell (not through the dotnet host).</param>
internal sealed record StartupRequest(UnitScope? Scope, string? User, string? TendHome, string? Binary, string? SocketGroup, string? UnitDir, string? CurrentTend = null);

/// <summary>The unit to write, where, and what the user should hear about it (PATH additions, warnings).</summary>
internal sealed record StartupPlan(UnitSpec Unit, string UnitPath, IReadOnlyList<string> Notes);

/// <summary>
/// Turns a <see cref="StartupRequest"/> into a <see cref="StartupPlan"/>: resolves the user, the homes,
/// the stable path of tend, the PATH the saved apps' interpreters need and a stop timeout longer than
/// stopping them takes. Refuses (exit 2) what would break at the next boot or upgrade.
/// </summary>
internal static partial class StartupPlanner
{
    /// <summary>What a unit's PATH always has, before the interpreters of the saved apps.</summary>
    public const string MinimalPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    /// <summary>The margin above the apps' own kill timeouts in TimeoutStopSec, and the floor of it.</summary>
    private static readonly TimeSpan s_stopMargin = TimeSpan.FromSeconds(30), s_minStop = TimeSpan.FromSeconds(90);

    /// <summary>After a kill_timeout's SIGKILL, how long Tend waits for the group to empty (ChildProcess).</summary>
    private static readonly TimeSpan s_afterKill = TimeSpan.FromSeconds(5);

    /// <summary>The unit's scope, its user and where its file goes: the same arguments name the same file for startup and unstartup.</summary>
    public static (UnitScope Scope, UserAccount User, UserAccount Self, string UnitPath) Locate(StartupRequest request, Func<string, string?> env)
    {
        bool root = HostSupport.IsRoot;
        UnitScope scope = request.Scope ?? (root ? UnitScope.System : UnitScope.User);
        if (scope == UnitScope.System && !root && request.UnitDir is null)
            throw new CommandException("a system unit goes to /etc/systemd/system, which only root may write", 2,
                ["run it with sudo, or use --user-unit for a unit in your own systemd (systemctl --user)"]);

        UserAccount self = UserAccounts.FindUser(Tend.Identity.ProcessIdentity.EffectiveUserId.ToString(System.Globalization.CultureInfo.InvariantCulture))
            ?? throw new CommandException("cannot find the current user in the user database", 1);
        UserAccount user = self;
        if (request.User is { } name)
        {
            user = UserAccounts.FindUser(name) ?? throw new CommandException($"--user: no user \"{name}\" on this machine", 2);
            if (scope == UnitScope.User && user.Uid != self.Uid)
                throw new CommandException($"--user {name}: a user unit runs as its owner; write a system unit (as root, --system) to run Tend as {name}", 2);
        }
        string unitName = scope == UnitScope.System ? $"tend-{user.Name}.service" : "tend.service";
        string dir = request.UnitDir is { } d ? Path.GetFullPath(d)
            : scope == UnitScope.System ? "/etc/systemd/system"
            : Path.Combine(env("XDG_CONFIG_HOME") is { Length: > 0 } xdg ? xdg : Path.Combine(self.Home, ".config"), "systemd", "user");
        return (scope, user, self, Path.Combine(dir, unitName));
    }

    public static StartupPlan Plan(StartupRequest request, string currentHome, string version, Func<string, string?> env)
    {
        var (scope, user, self, unitPath) = Locate(request, env);
        GroupAccount group = UserAccounts.FindGroup(user.Gid.ToString(System.Globalization.CultureInfo.InvariantCulture))
            ?? new GroupAccount(user.Gid.ToString(System.Globalization.CultureInfo.InvariantCulture), user.Gid);
        if (request.SocketGroup is { } socketGroup && UserAccounts.FindGroup(socketGroup) is null)
            throw new CommandException($"--socket-group: no group \"{socketGroup}\" on this machine", 2);

        // The daemon's home: given, else this CLI's own when the unit runs as us, else the user's ~/.tend.
        string tendHome = request.TendHome is { } h ? Path.GetFullPath(h)
            : user.Uid == self.Uid ? currentHome
            : Path.Combine(user.Home, ".tend");

        string tend = request.Binary is { } b ? Path.GetFullPath(b) : request.CurrentTend ?? throw UnknownTend();
        if (UnstableBecause(tend) is string why)
            throw new CommandException($"{tend} is not a path a boot unit can rely on: {why}", 2,
                ["install Tend somewhere stable (docs/startup.md), or name a stable path to it with --binary (a symlink is fine)"]);
        if (!File.Exists(tend)) throw new CommandException($"--binary: {tend} does not exist", 2);

        var notes = new List<string>();
        PersistedState? state = StateFile.Read(Path.Combine(tendHome, "state.json"), []);
        IReadOnlyList<AppSpec> apps = state is null ? [] : [.. state.Apps.Select(a => a.Spec)];
        string path = PathFor(apps, env("PATH") ?? MinimalPath, notes);
        TimeSpan stop = StopTimeout(apps, notes);

        var unit = new UnitSpec(scope, tend, user.Name, group.Name, user.Home, tendHome, path, stop, request.SocketGroup, version);
        if (scope == UnitScope.User)
        {
            notes.Add(File.Exists(Path.Combine("/var/lib/systemd/linger", user.Name))
                ? $"lingering is on for {user.Name}: the unit starts at boot, before anyone logs in"
                : $"a user unit starts at boot only with lingering on: run `loginctl enable-linger {user.Name}` (as root), or it starts at {user.Name}'s first login and stops at the last logout");
        }
        return new StartupPlan(unit, unitPath, notes);
    }

    private static CommandException UnknownTend() =>
        new("cannot tell the path of the tend executable (this one runs through the dotnet host)", 2, ["name it with --binary"]);

    /// <summary>Why <paramref name="path"/> would break at a reboot or an upgrade; null when it looks stable.</summary>
    internal static string? UnstableBecause(string path)
    {
        if (!Path.IsPathFullyQualified(path)) return "it is not absolute";
        string[] segments = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        foreach (string segment in segments[..^1])
        {
            if (segment == ".store") return "it is inside the .NET tool store, whose folders are named by version and replaced by `dotnet tool update`; use the tool's shim (~/.dotnet/tools/tend, or the --tool-path you installed it to)";
            if (segment == ".nvm") return "it is inside nvm's folders, which change with every node version";
            if (VersionLike().IsMatch(segment)) return $"it is inside a versioned folder ({segment}), which the next upgrade replaces";
        }
        foreach (string temp in new[] { "/tmp/", "/var/tmp/", "/dev/shm/", "/run/" })
            if (path.StartsWith(temp, StringComparison.Ordinal)) return $"it is under {temp.TrimEnd('/')}, which does not survive a reboot";
        return null;
    }

    [GeneratedRegex(@"^v?\d+\.\d+(\.\d+)?([-+._].*)?$")]
    private static partial Regex VersionLike();

    /// <summary>The minimal PATH plus the folders of the programs the saved apps run, each addition noted.</summary>
    internal static string PathFor(IReadOnlyList<AppSpec> apps, string searchPath, List<string> notes)
    {
        var dirs = new List<string>(MinimalPath.Split(':'));
        foreach (AppSpec app in apps)
        {
            string appPath = app.Env.TryGetValue("PATH", out string? p) ? p : searchPath;
            foreach (string program in ProgramsOf(app, appPath))
            {
                string? dir = Path.GetDirectoryName(program);
                if (dir is null || dirs.Contains(dir)) continue;
                dirs.Add(dir);
                notes.Add($"PATH: added {dir} ({Path.GetFileName(program)}, run by {app.Name})"
                    + (UnstableBecause(program) is string why ? $"; note: {why}, point a stable symlink at it and run `tend startup` again" : ""));
            }
        }
        return string.Join(':', dirs);
    }

    /// <summary>The app's program, resolved like the spawn does, and the interpreter its `#!/usr/bin/env X` line names.</summary>
    private static IEnumerable<string> ProgramsOf(AppSpec app, string searchPath)
    {
        string? program = Resolve(app.Command, app.Cwd, searchPath);
        if (program is null) yield break;
        yield return program;
        string? interpreter = EnvInterpreter(program);
        if (interpreter is not null && Resolve(interpreter, app.Cwd, searchPath) is string found) yield return found;
    }

    private static string? Resolve(string command, string cwd, string searchPath)
    {
        if (command.Contains('/')) return Path.GetFullPath(command, cwd);
        foreach (string dir in searchPath.Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            string candidate = Path.Combine(dir, command);
            if (File.Exists(candidate)) return candidate;
        }
        return null;
    }

    /// <summary>X from a first line "#!/usr/bin/env X …" (or "env -S X"); null otherwise.</summary>
    private static string? EnvInterpreter(string script)
    {
        try
        {
            using var reader = new StreamReader(script);
            char[] head = new char[256];
            int n = reader.Read(head, 0, head.Length);
            string first = new string(head, 0, n).Split('\n')[0];
            if (!first.StartsWith("#!", StringComparison.Ordinal)) return null;
            string[] words = first[2..].Split(' ', '\t', StringSplitOptions.RemoveEmptyEntries);
            if (words.Length < 2 || Path.GetFileName(words[0]) != "env") return null;
            return words.Skip(1).FirstOrDefault(w => !w.StartsWith('-'));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
    }

    /// <summary>
    /// Longer than Tend's own stop of the saved apps: apps stop one after another (reverse start order),
    /// an app's instances together, each within its kill_timeout and then 5 s for its group to go.
    /// </summary>
    internal static TimeSpan StopTimeout(IReadOnlyList<AppSpec> apps, List<string> notes)
    {
        TimeSpan total = TimeSpan.Zero;
        foreach (AppSpec app in apps)
        {
            if (app.KillTimeout == Timeout.InfiniteTimeSpan || app.KillTimeout >= TimeSpan.FromDays(1))
            {
                notes.Add($"TimeoutStopSec=infinity: {app.Name} waits for its processes without a kill_timeout");
                return Timeout.InfiniteTimeSpan;
            }
            total += app.KillTimeout + s_afterKill;
        }
        TimeSpan stop = total + s_stopMargin < s_minStop ? s_minStop : total + s_stopMargin;
        notes.Add($"TimeoutStopSec={Math.Ceiling(stop.TotalSeconds):0}: stopping the {apps.Count} saved apps takes at most {Math.Ceiling(total.TotalSeconds):0}s; run `tend startup` again after adding apps with long kill timeouts");
        return stop;
    }
}
