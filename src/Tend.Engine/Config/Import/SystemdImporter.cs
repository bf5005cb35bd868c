using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Tend.Config.Import;

/// <summary>
/// A systemd service unit (web.service, with its web.service.d/*.conf drop-ins) → one app. The
/// [Service] keys that have a Tend key are mapped (ExecStart, WorkingDirectory, Environment,
/// EnvironmentFile, User, Group, Restart, RestartSec, TimeoutStopSec, KillSignal, Type=notify,
/// WatchdogSec, ExecReload=kill -HUP $MAINPID, Limit*, MemoryMax, CPUQuota, TasksMax, UMask,
/// NoNewPrivileges, AmbientCapabilities, StandardOutput=file:); systemd's defaults that differ
/// from Tend's (Restart=no, a 90 s stop timeout, / as the working directory) are written out, so the
/// app behaves as it did; everything else is in the report with the reason.
/// </summary>
internal static partial class SystemdImporter
{
    /// <summary>The sections and keys of a unit, in file order (drop-ins after the unit); a key may repeat.</summary>
    private sealed class Unit
    {
        public List<(string Section, string Key, string Value)> Entries { get; } = [];

        /// <summary>The value in force: the last assignment (an empty one resets it to the default).</summary>
        public string? Last(string section, string key)
        {
            string? value = null;
            foreach (var e in Entries)
                if (e.Section == section && e.Key == key) value = e.Value.Length == 0 ? null : e.Value;
            return value;
        }

        /// <summary>A list setting: every assignment adds, an empty one clears what came before.</summary>
        public List<string> All(string section, string key)
        {
            var values = new List<string>();
            foreach (var e in Entries)
            {
                if (e.Section != section || e.Key != key) continue;
                if (e.Value.Length == 0) values.Clear();
                else values.Add(e.Value);
            }
            return values;
        }
    }

    private const string Service = "Service";

    /// <summary>[Service] keys mapped here; any other is reported as not mapped.</summary>
    private static readonly HashSet<string> s_mapped = new(StringComparer.Ordinal)
    {
        "Type", "ExecStart", "WorkingDirectory", "Environment", "EnvironmentFile", "User", "Group", "SupplementaryGroups", "Restart",
        "RestartSec", "TimeoutStopSec", "TimeoutStartSec", "TimeoutSec", "KillSignal", "KillMode", "WatchdogSec", "ExecReload",
        "ReloadSignal", "UMask", "NoNewPrivileges", "AmbientCapabilities", "MemoryMax", "MemoryLimit", "MemoryHigh", "CPUQuota",
        "TasksMax", "StandardOutput", "StandardError", "SuccessExitStatus", "RestartPreventExitStatus", "StartLimitBurst",
        "NotifyAccess", "RemainAfterExit", "PIDFile",
    };

    /// <summary>systemd's Limit* names as Tend's limits: keys.</summary>
    private static readonly Dictionary<string, string> s_limits = new(StringComparer.Ordinal)
    {
        ["LimitNOFILE"] = "nofile", ["LimitNPROC"] = "nproc", ["LimitCORE"] = "core", ["LimitMEMLOCK"] = "memlock",
        ["LimitSTACK"] = "stack", ["LimitAS"] = "as", ["LimitCPU"] = "cpu", ["LimitDATA"] = "data", ["LimitFSIZE"] = "fsize",
        ["LimitLOCKS"] = "locks", ["LimitMSGQUEUE"] = "msgqueue", ["LimitNICE"] = "nice", ["LimitRSS"] = "rss",
        ["LimitRTPRIO"] = "rtprio", ["LimitRTTIME"] = "rttime", ["LimitSIGPENDING"] = "sigpending",
    };

    /// <summary>Unit dependencies that become depends_on: when the unit they name is imported too.</summary>
    private static readonly string[] s_ordering = ["Requires", "BindsTo", "Wants", "After", "Requisite", "PartOf"];

    public static ImportResult Import(string path, string source) => Import([path], source);

    /// <summary>
    /// Several units into one tend.yaml, in the order given: a unit's Requires=, Wants=, After= … of
    /// another unit imported with it become depends_on: (ready when that unit is Type=notify, else
    /// started); those naming units not imported are reported.
    /// </summary>
    public static ImportResult Import(IReadOnlyList<string> paths, string source)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        var units = new List<(string File, Unit Unit, ImportedApp App, string Type)>();
        var notes = new List<ImportNote>();
        foreach (string path in paths)
        {
            Unit unit = ReadWithDropIns(path);
            string file = Path.GetFileName(path);
            if (units.Any(u => u.File == file)) throw new ImportException($"{file} is named twice");
            string unitName = file.EndsWith(".service", StringComparison.Ordinal) ? file[..^".service".Length] : Path.GetFileNameWithoutExtension(file);
            // foo@bar.service: the template foo, instance bar (%i).
            int at = unitName.IndexOf('@');
            string prefix = at >= 0 ? unitName[..at] : unitName;
            string instance = at >= 0 ? unitName[(at + 1)..] : "";
            string name = Names.Sanitize(at >= 0 && instance.Length > 0 ? prefix + "-" + instance : prefix, names);
            var app = new ImportedApp(name);
            var specifiers = new Specifiers(file, prefix, instance, name, notes);

            string type = unit.Last(Service, "Type") ?? "simple";
            ImportCommand(unit, app, notes, specifiers, name);
            ImportDirectoryAndEnvironment(unit, app, notes, specifiers, name);
            ImportRestart(unit, app, notes, type, name);
            ImportStop(unit, app, notes, name);
            ImportReadiness(unit, app, notes, type, name);
            ImportIsolation(unit, app, notes, specifiers, name);
            ImportLogs(unit, app, notes, specifiers, name);
            units.Add((file, unit, app, type));
        }
        var needs = new List<int>[units.Count];
        for (int i = 0; i < units.Count; i++)
        {
            var (_, unit, app, _) = units[i];
            needs[i] = [];
            var joined = new HashSet<string>(StringComparer.Ordinal);
            var dependsOn = new List<string>();
            foreach (string key in s_ordering)
            {
                foreach (string other in unit.All("Unit", key).SelectMany(Words))
                {
                    int j = units.FindIndex(u => u.File == other);
                    if (j < 0 || j == i || !joined.Add(other)) continue;
                    needs[i].Add(j);
                    dependsOn.Add($"{YamlText.Quote(units[j].App.Name)}: {(units[j].Type is "notify" or "notify-reload" ? "ready" : "started")}");
                }
            }
            if (dependsOn.Count > 0)
                app.Set("depends_on", "{ " + string.Join(", ", dependsOn) + " }", "the unit's Requires=/Wants=/After= of units imported with it (ready: a Type=notify unit's READY=1)");
            ReportTheRest(unit, notes, app.Name, joined);
        }

        // Tend starts apps in file order and a dependency must come first: the units in the order
        // given, each moved after what it needs.
        var order = new List<int>();
        var state = new int[units.Count]; // 0 new, 1 being placed, 2 placed
        void Place(int i, List<string> path)
        {
            if (state[i] == 2) return;
            if (state[i] == 1) throw new ImportException($"the units depend on each other in a circle: {string.Join(" → ", path.Append(units[i].File))}");
            state[i] = 1;
            foreach (int j in needs[i]) Place(j, [.. path, units[i].File]);
            state[i] = 2;
            order.Add(i);
        }
        for (int i = 0; i < units.Count; i++) Place(i, []);

        ImportedApp[] apps = [.. order.Select(i => units[i].App)];
        string description = units.Count == 1 && units[0].Unit.Last("Unit", "Description") is string d ? $"\n{d}" : "";
        string header = $"Imported from {source} by `tend import systemd`{(units.Count > 1 ? " (each unit after the units it needs)" : "")}.{description}";
        return new ImportResult("systemd", source, ImportRenderer.Render(header, apps), notes, [.. apps.Select(a => a.Name)]);
    }

    private static void ImportCommand(Unit unit, ImportedApp app, List<ImportNote> notes, Specifiers specifiers, string name)
    {
        List<string> starts = unit.All(Service, "ExecStart");
        if (starts.Count == 0) throw new ImportException("the unit has no ExecStart= in [Service]");
        if (starts.Count > 1)
            notes.Add(new ImportNote(name, "ExecStart", ImportNoteKind.Unmapped, $"{starts.Count} ExecStart= lines (Type=oneshot): Tend runs the first; run the others as apps of their own (depends_on: completed orders them)"));
        string command = starts[0].TrimStart();
        // Prefixes of the executable: @ (argv[0] differs), - (a failure is ignored), : (no expansion), + and ! (privileges).
        while (command.Length > 0 && command[0] is '@' or '-' or ':' or '+' or '!')
        {
            char p = command[0];
            command = command[1..];
            string? why = p switch
            {
                '@' => "@: the next word was argv[0] only; Tend passes the program's path as argv[0]",
                '-' => "-: systemd ignored a failing exit; Tend's restart policy decides",
                '+' or '!' => $"{p}: ran with full privileges; Tend runs it as user: (the daemon's user by default)",
                _ => null,
            };
            if (why is not null) notes.Add(new ImportNote(name, "ExecStart", ImportNoteKind.Approximated, why));
        }
        command = specifiers.Expand(command.Trim(), "ExecStart");
        if (command.Contains('$'))
        {
            // systemd put Environment= values into $VAR and ${VAR}; a shell does it here, from env:.
            app.String("run", command.Replace("$$", "\\$", StringComparison.Ordinal));
            app.Set("shell", "true", "systemd expanded $VARIABLES in ExecStart; /bin/sh does it here, from env:");
        }
        else
        {
            app.String("run", command);
        }
    }

    private static void ImportDirectoryAndEnvironment(Unit unit, ImportedApp app, List<ImportNote> notes, Specifiers specifiers, string name)
    {
        string? directory = unit.Last(Service, "WorkingDirectory");
        if (directory is null)
        {
            app.String("cwd", "/", "systemd runs services in / unless WorkingDirectory= says otherwise");
            notes.Add(new ImportNote(name, "WorkingDirectory", ImportNoteKind.DefaultCarried, "systemd's default working directory is /: cwd: /"));
        }
        else
        {
            bool optional = directory.StartsWith('-');
            directory = specifiers.Expand(optional ? directory[1..] : directory, "WorkingDirectory");
            if (directory.StartsWith('~'))
            {
                notes.Add(new ImportNote(name, "WorkingDirectory", ImportNoteKind.Unmapped, "~ (the user's home): write the path out as cwd:"));
            }
            else if (optional && !Directory.Exists(directory))
            {
                app.String("cwd", "/", $"WorkingDirectory=-{directory} does not exist here; systemd would have used /");
                notes.Add(new ImportNote(name, "WorkingDirectory", ImportNoteKind.Approximated, $"-{directory} does not exist here: cwd: /"));
            }
            else
            {
                app.String("cwd", directory);
            }
        }

        var env = new List<KeyValuePair<string, string>>();
        foreach (string line in unit.All(Service, "Environment"))
        {
            foreach (string assignment in Words(line))
            {
                int eq = assignment.IndexOf('=');
                if (eq <= 0)
                {
                    notes.Add(new ImportNote(name, "Environment", ImportNoteKind.Unmapped, $"\"{assignment}\" is not NAME=value"));
                    continue;
                }
                string key = assignment[..eq];
                env.RemoveAll(p => p.Key == key);
                env.Add(new(key, specifiers.Expand(assignment[(eq + 1)..], "Environment")));
            }
        }
        app.Map("env", env);

        var envFiles = new List<string>();
        foreach (string raw in unit.All(Service, "EnvironmentFile"))
        {
            bool optional = raw.StartsWith('-');
            string envFile = specifiers.Expand(optional ? raw[1..] : raw, "EnvironmentFile");
            if (File.Exists(envFile)) envFiles.Add(envFile);
            else notes.Add(new ImportNote(name, "EnvironmentFile", ImportNoteKind.Unmapped,
                $"{envFile} does not exist here{(optional ? " (systemd skipped it too: it was optional)" : "")}; add it as env_file: where it exists"));
        }
        if (envFiles.Count == 1) app.String("env_file", envFiles[0]);
        else if (envFiles.Count > 1) app.List("env_file", envFiles);
        if (envFiles.Count > 0 && env.Count > 0)
            notes.Add(new ImportNote(name, "EnvironmentFile", ImportNoteKind.Approximated, "systemd let the files override Environment=; in Tend env: overrides env_file:"));
    }

    private static void ImportRestart(Unit unit, ImportedApp app, List<ImportNote> notes, string type, string name)
    {
        string? restart = unit.Last(Service, "Restart");
        switch (restart)
        {
            case null or "no":
                app.Set("restart", "never", restart is null ? "systemd's default Restart=no" : null);
                if (restart is null) notes.Add(new ImportNote(name, "Restart", ImportNoteKind.DefaultCarried, "systemd's default is Restart=no: restart: never"));
                break;
            case "always":
                app.Set("restart", "always");
                break;
            case "on-failure":
                app.Set("restart", "on-failure");
                break;
            case "on-abnormal" or "on-abort" or "on-watchdog":
                app.Set("restart", "on-failure", $"Restart={restart}");
                notes.Add(new ImportNote(name, "Restart", ImportNoteKind.Approximated, $"{restart}: on-failure (Tend also restarts after an unclean exit code)"));
                break;
            case "on-success":
                app.Set("restart", "always", "Restart=on-success");
                notes.Add(new ImportNote(name, "Restart", ImportNoteKind.Approximated, "on-success: always (Tend has no restart after a clean exit only)"));
                break;
            default:
                notes.Add(new ImportNote(name, "Restart", ImportNoteKind.Unmapped, $"unknown value \"{restart}\""));
                break;
        }
        if (unit.Last(Service, "RestartSec") is string restartSec) SetDuration(app, notes, name, "RestartSec", restartSec, "restart_delay");
        var clean = new List<string>();
        foreach (string line in unit.All(Service, "SuccessExitStatus").Concat(unit.All(Service, "RestartPreventExitStatus")))
        {
            foreach (string word in Words(line))
            {
                if (int.TryParse(word, NumberStyles.None, CultureInfo.InvariantCulture, out int code) && code <= 255) clean.Add(word);
                else notes.Add(new ImportNote(name, "SuccessExitStatus", ImportNoteKind.Unmapped, $"{word}: Tend's stop_exit_codes are exit codes 0..255, not signals"));
            }
        }
        if (clean.Count > 0) app.Set("stop_exit_codes", "[" + string.Join(", ", clean.Distinct()) + "]");
        if ((unit.Last(Service, "StartLimitBurst") ?? unit.Last("Unit", "StartLimitBurst")) is string burst
            && int.TryParse(burst, NumberStyles.None, CultureInfo.InvariantCulture, out int b))
        {
            app.Number("max_restarts", b, "StartLimitBurst: Tend counts restarts that come before min_uptime, not starts within StartLimitIntervalSec");
            notes.Add(new ImportNote(name, "StartLimitBurst", ImportNoteKind.Approximated, "max_restarts: unstable restarts in a row, not starts within an interval"));
        }
        if (type == "oneshot")
            notes.Add(new ImportNote(name, "Type", ImportNoteKind.Approximated, "oneshot: an app that runs once (restart: never unless Restart= said otherwise); other apps can wait for it with depends_on: completed"));
    }

    private static void ImportStop(Unit unit, ImportedApp app, List<ImportNote> notes, string name)
    {
        if (unit.Last(Service, "KillSignal") is string signal)
            app.String("stop_signal", signal.StartsWith("SIG", StringComparison.Ordinal) || signal.All(char.IsAsciiDigit) ? signal : "SIG" + signal);
        string? stop = unit.Last(Service, "TimeoutStopSec") ?? unit.Last(Service, "TimeoutSec");
        if (stop is null)
        {
            app.Set("kill_timeout", "90s", "systemd waits 90 s (DefaultTimeoutStopSec) before SIGKILL");
            notes.Add(new ImportNote(name, "TimeoutStopSec", ImportNoteKind.DefaultCarried, "systemd waits 90 s before SIGKILL (Tend's default is 5 s): kill_timeout: 90s"));
        }
        else
        {
            SetDuration(app, notes, name, "TimeoutStopSec", stop, "kill_timeout");
        }
        switch (unit.Last(Service, "KillMode"))
        {
            case null or "control-group" or "mixed":
                break;
            case string mode:
                notes.Add(new ImportNote(name, "KillMode", ImportNoteKind.Approximated,
                    $"{mode}: Tend sends stop_signal to the main process and, after kill_timeout, SIGKILL to every process of the instance"));
                break;
        }
    }

    private static void ImportReadiness(Unit unit, ImportedApp app, List<ImportNote> notes, string type, string name)
    {
        string? startTimeout = unit.Last(Service, "TimeoutStartSec") ?? unit.Last(Service, "TimeoutSec");
        switch (type)
        {
            case "notify" or "notify-reload":
                string timeout = startTimeout is null ? "" : DurationText(startTimeout) is string t ? $", ready_timeout: {t}" : "";
                app.Set("ready", $"{{ notify: true{timeout} }}", "Type=notify: ready once the program sends READY=1 to $NOTIFY_SOCKET");
                if (type == "notify-reload" && unit.Last(Service, "ExecReload") is null)
                    app.String("reload_signal", unit.Last(Service, "ReloadSignal") ?? "SIGHUP", "Type=notify-reload: tend reload sends it in place");
                break;
            case "forking":
                notes.Add(new ImportNote(name, "Type", ImportNoteKind.Approximated,
                    "forking: Tend keeps the program in the foreground; give it its no-daemon flag (nginx -g 'daemon off;', php-fpm -F, …) or it exits and is restarted"));
                break;
            case "dbus":
                notes.Add(new ImportNote(name, "Type", ImportNoteKind.Approximated, "dbus: ready when spawned (Tend does not watch the bus name)"));
                break;
        }
        if (unit.Last(Service, "WatchdogSec") is string watchdog && DurationText(watchdog) is string w && w != "0s")
            app.Set("watchdog", w);
        if (unit.Last(Service, "ExecReload") is string reload)
        {
            Match kill = KillMainPid().Match(reload.TrimStart('-', '@', '+', '!', ':'));
            string sig = kill.Success ? kill.Groups["sig"].Value.ToUpperInvariant() : "";
            if (kill.Success) app.String("reload_signal", sig.All(char.IsAsciiDigit) || sig.StartsWith("SIG", StringComparison.Ordinal) ? sig : "SIG" + sig, "ExecReload: tend reload sends it in place");
            else notes.Add(new ImportNote(name, "ExecReload", ImportNoteKind.Unmapped, "only a kill of $MAINPID maps (to reload_signal); tend reload replaces the instances otherwise"));
        }
    }

    private static void ImportIsolation(Unit unit, ImportedApp app, List<ImportNote> notes, Specifiers specifiers, string name)
    {
        if (unit.Last(Service, "User") is string user) app.String("user", specifiers.Expand(user, "User"));
        if (unit.Last(Service, "Group") is string group) app.String("group", specifiers.Expand(group, "Group"));
        var groups = unit.All(Service, "SupplementaryGroups").SelectMany(Words).ToList();
        if (groups.Count > 0) app.List("supplementary_groups", groups);
        if (unit.Last(Service, "UMask") is string umask) app.String("umask", umask);
        if (unit.Last(Service, "NoNewPrivileges") is string nnp && IsYes(nnp)) app.Set("no_new_privs", "true");
        var caps = unit.All(Service, "AmbientCapabilities").SelectMany(Words).Where(c => !c.StartsWith('~')).ToList();
        if (caps.Count > 0) app.List("capabilities", caps);

        var limits = new List<string>();
        foreach (var (key, tendKey) in s_limits)
        {
            if (unit.Last(Service, key) is string value) limits.Add($"{tendKey}: {YamlText.Quote(value)}");
        }
        if (limits.Count > 0) app.Set("limits", "{ " + string.Join(", ", limits) + " }");

        var resources = new List<string>();
        if ((unit.Last(Service, "MemoryMax") ?? unit.Last(Service, "MemoryLimit")) is string memoryMax && memoryMax != "infinity")
            resources.Add("memory_max: " + YamlText.Quote(memoryMax));
        if (unit.Last(Service, "MemoryHigh") is string memoryHigh && memoryHigh != "infinity")
            resources.Add("memory_high: " + YamlText.Quote(memoryHigh));
        if (unit.Last(Service, "CPUQuota") is string cpu) resources.Add("cpu_max: " + YamlText.Quote(cpu));
        if (unit.Last(Service, "TasksMax") is string tasks && tasks != "infinity")
        {
            if (tasks.EndsWith('%')) notes.Add(new ImportNote(name, "TasksMax", ImportNoteKind.Unmapped, "a share of the system's limit: give resources.pids_max a number"));
            else resources.Add("pids_max: " + tasks);
        }
        if (resources.Count > 0) app.Set("resources", "{ " + string.Join(", ", resources) + " }");
    }

    private static void ImportLogs(Unit unit, ImportedApp app, List<ImportNote> notes, Specifiers specifiers, string name)
    {
        var log = new List<string>();
        string? outFile = LogFile(unit.Last(Service, "StandardOutput"), "StandardOutput", notes, specifiers, name);
        string? errSetting = unit.Last(Service, "StandardError");
        string? errFile = LogFile(errSetting, "StandardError", notes, specifiers, name);
        if (outFile is not null) log.Add("out_file: " + YamlText.Quote(outFile));
        if (errFile is not null && errFile != outFile) log.Add("err_file: " + YamlText.Quote(errFile));
        if (outFile is not null && (errSetting is null or "inherit" || errFile == outFile))
            notes.Add(new ImportNote(name, "StandardError", ImportNoteKind.Approximated, "stderr went to stdout's file; Tend keeps it apart, in $TEND_HOME/logs (tend logs shows both)"));
        if (log.Count > 0) app.Set("log", "{ " + string.Join(", ", log) + " }");
    }

    /// <summary>file:/append:/truncate:PATH as a log path; journal and the rest are reported (Tend keeps logs in files).</summary>
    private static string? LogFile(string? setting, string key, List<ImportNote> notes, Specifiers specifiers, string name)
    {
        if (setting is null or "inherit" or "journal" or "journal+console" or "kmsg" or "syslog") return null;
        foreach (string scheme in new[] { "file:", "append:", "truncate:" })
        {
            if (!setting.StartsWith(scheme, StringComparison.Ordinal)) continue;
            if (scheme == "truncate:") notes.Add(new ImportNote(name, key, ImportNoteKind.Approximated, "truncate: Tend appends and rotates (max_size)"));
            return specifiers.Expand(setting[scheme.Length..], key);
        }
        notes.Add(new ImportNote(name, key, ImportNoteKind.Unmapped, $"{setting}: Tend keeps the output in log files (tend logs)"));
        return null;
    }

    /// <param name="joined">The units named in [Unit] that became depends_on: (a key naming only those is not reported).</param>
    private static void ReportTheRest(Unit unit, List<ImportNote> notes, string name, HashSet<string> joined)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (section, key, _) in unit.Entries)
        {
            if (!seen.Add(section + "/" + key)) continue;
            if (section == "Unit" && s_ordering.Contains(key))
            {
                string[] others = [.. unit.All(section, key).SelectMany(Words).Where(u => !joined.Contains(u))];
                if (others.Length > 0)
                    notes.Add(new ImportNote(name, key, ImportNoteKind.Unmapped,
                        $"{string.Join(", ", others)}: depends_on: joins units imported together (tend import systemd a.service b.service)"));
                continue;
            }
            string? why = section switch
            {
                Service when s_mapped.Contains(key) || s_limits.ContainsKey(key) => null,
                Service when key.StartsWith("ExecStart", StringComparison.Ordinal) || key.StartsWith("ExecStop", StringComparison.Ordinal) || key == "ExecCondition" =>
                    "Tend runs one command per app: a step before it is an app of its own that others wait for (depends_on: completed)",
                Service => "no equivalent in Tend",
                "Unit" when key is "Description" or "Documentation" or "StartLimitBurst" => null,
                "Unit" when key is "Before" =>
                    "depends_on: is set on the unit that comes after (import both units together)",
                "Unit" => "no equivalent in Tend",
                "Install" => "`tend startup` starts Tend at boot, and it brings back what `tend save` saved",
                _ => $"[{section}] has no equivalent in Tend",
            };
            if (why is not null) notes.Add(new ImportNote(name, key, ImportNoteKind.Unmapped, why));
        }
    }

    private static void SetDuration(ImportedApp app, List<ImportNote> notes, string name, string key, string value, string tendKey)
    {
        if (DurationText(value) is string text) app.Set(tendKey, text);
        else notes.Add(new ImportNote(name, key, ImportNoteKind.Unmapped, $"\"{value}\" is not a time span Tend reads"));
    }

    /// <summary>
    /// A systemd time span ("90", "5min 30s", "500ms", "infinity") as a Tend duration ("90s", "330s",
    /// "500ms", "infinity"); null when it is not one.
    /// </summary>
    internal static string? DurationText(string value)
    {
        value = value.Trim();
        if (value == "infinity") return "infinity";
        if (value.Length == 0) return null;
        double totalMs = 0;
        foreach (Match part in TimeSpanPart().Matches(value))
        {
            double n = double.Parse(part.Groups["n"].Value, CultureInfo.InvariantCulture);
            double unitMs = part.Groups["u"].Value switch
            {
                "" or "s" or "sec" or "second" or "seconds" => 1000,
                "ms" or "msec" => 1,
                "us" or "usec" or "µs" => 0.001,
                "m" or "min" or "minute" or "minutes" => 60_000,
                "h" or "hr" or "hour" or "hours" => 3_600_000,
                "d" or "day" or "days" => 86_400_000,
                "w" or "week" or "weeks" => 604_800_000,
                _ => double.NaN,
            };
            if (double.IsNaN(unitMs)) return null;
            totalMs += n * unitMs;
        }
        if (TimeSpanPart().Replace(value, "").Trim().Length > 0) return null;
        long ms = (long)Math.Round(totalMs);
        return ms % 1000 == 0 ? (ms / 1000).ToString(CultureInfo.InvariantCulture) + "s" : ms.ToString(CultureInfo.InvariantCulture) + "ms";
    }

    private static bool IsYes(string value) => value is "yes" or "true" or "1" or "on";

    /// <summary>Words as systemd splits a value: at whitespace, with "double" and 'single' quotes and backslash escapes.</summary>
    internal static List<string> Words(string text)
    {
        var words = new List<string>();
        var word = new StringBuilder();
        bool inWord = false;
        char quote = '\0';
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (quote != '\0')
            {
                if (c == quote) quote = '\0';
                else if (c == '\\' && i + 1 < text.Length) word.Append(text[++i]);
                else word.Append(c);
            }
            else if (c is '"' or '\'')
            {
                quote = c;
                inWord = true;
            }
            else if (char.IsWhiteSpace(c))
            {
                if (inWord) words.Add(word.ToString());
                word.Clear();
                inWord = false;
            }
            else
            {
                if (c == '\\' && i + 1 < text.Length) c = text[++i];
                word.Append(c);
                inWord = true;
            }
        }
        if (inWord) words.Add(word.ToString());
        return words;
    }

    private static Unit ReadWithDropIns(string path)
    {
        var unit = new Unit();
        ReadInto(path, unit);
        string dropIns = path + ".d";
        if (Directory.Exists(dropIns))
            foreach (string conf in Directory.GetFiles(dropIns, "*.conf").OrderBy(f => Path.GetFileName(f), StringComparer.Ordinal))
                ReadInto(conf, unit);
        return unit;
    }

    private static void ReadInto(string path, Unit unit)
    {
        string[] lines;
        try { lines = File.ReadAllLines(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new ImportException($"cannot read {path}: {e.Message}"); }
        string? section = null;
        var pending = new StringBuilder();
        int lineNo = 0;
        foreach (string raw in lines)
        {
            lineNo++;
            string line = raw.Trim();
            if (pending.Length == 0 && (line.Length == 0 || line[0] is '#' or ';')) continue;
            // A backslash at the end continues the value on the next line.
            if (line.EndsWith('\\'))
            {
                pending.Append(line[..^1].TrimEnd()).Append(' ');
                continue;
            }
            pending.Append(line);
            string whole = pending.ToString().Trim();
            pending.Clear();
            if (whole.StartsWith('[') && whole.EndsWith(']'))
            {
                section = whole[1..^1].Trim();
                continue;
            }
            int eq = whole.IndexOf('=');
            if (eq <= 0) throw new ImportException($"{path}:{lineNo}: expected Key=Value or [Section], got \"{whole}\"");
            if (section is null) throw new ImportException($"{path}:{lineNo}: {whole[..eq].Trim()}= comes before any [Section]");
            unit.Entries.Add((section, whole[..eq].Trim(), whole[(eq + 1)..].Trim()));
        }
    }

    /// <summary>systemd's %-specifiers that have one meaning anywhere; the rest are reported once each.</summary>
    private sealed class Specifiers(string unitFile, string prefix, string instance, string app, List<ImportNote> notes)
    {
        private readonly HashSet<char> _reported = [];

        public string Expand(string value, string key)
        {
            if (!value.Contains('%')) return value;
            var text = new StringBuilder();
            for (int i = 0; i < value.Length; i++)
            {
                if (value[i] != '%' || i + 1 == value.Length)
                {
                    text.Append(value[i]);
                    continue;
                }
                char s = value[++i];
                string? expanded = s switch
                {
                    '%' => "%",
                    'n' or 'N' => s == 'n' ? unitFile : unitFile[..^Path.GetExtension(unitFile).Length],
                    'p' or 'P' => prefix,
                    'i' or 'I' => instance,
                    't' => "/run",
                    'S' => "/var/lib",
                    'C' => "/var/cache",
                    'L' => "/var/log",
                    'E' => "/etc",
                    'T' => "/tmp",
                    'V' => "/var/tmp",
                    _ => null,
                };
                if (expanded is null)
                {
                    text.Append('%').Append(s);
                    if (_reported.Add(s))
                        notes.Add(new ImportNote(app, key, ImportNoteKind.Unmapped, $"%{s} is left as written: only %n %N %p %P %i %I and the directory specifiers (%t %S %C %L %E %T %V) are expanded"));
                }
                else
                {
                    text.Append(expanded);
                }
            }
            return text.ToString();
        }
    }

    [GeneratedRegex(@"^\s*(?:/usr)?(?:/bin/)?kill\s+(?:-s\s+)?-?(?<sig>[A-Za-z0-9]+)\s+\$\{?MAINPID\}?\s*$")]
    private static partial Regex KillMainPid();

    [GeneratedRegex(@"(?<n>\d+(?:\.\d+)?)\s*(?<u>[a-zµ]*)")]
    private static partial Regex TimeSpanPart();
}
