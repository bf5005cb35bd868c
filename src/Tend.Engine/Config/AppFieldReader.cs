using System.Globalization;
using Tend.Processes;

namespace Tend.Config;

/// <summary>The values of an app's keys, one reader each: run lines and args, instances, restart, signals, exit codes, backoff, increment_var, logs.</summary>
internal static class AppFieldReader
{
    internal static readonly string[] s_logKeys = ["out_file", "err_file", "timestamps", "format", "max_size", "max_files"];
    internal static readonly string[] s_backoffKeys = ["initial", "max", "multiplier", "jitter"];
    internal static readonly string[] s_incrementKeys = ["name", "start"];
    internal static readonly string[] s_restartPolicies = ["always", "on-failure", "never"];

    /// <summary>Splits a run line; reports unterminated quotes, emptiness and shell operators that would not work.</summary>
    internal static List<string>? SplitRun(NodeReader reader, YScalar run, string field)
    {
        if (!ShellWords.TrySplit(run.Value, out var words, out string? error))
        {
            reader.Error(run, field, error!);
            return null;
        }
        if (words.Count == 0)
        {
            reader.Error(run, field, "empty command");
            return null;
        }
        foreach (var word in words)
        {
            if (!word.Quoted && ShellWords.ShellOperators.Contains(word.Text))
            {
                reader.Error(run, field,
                    $"\"{word.Text}\" means something to a shell, but run starts the program directly; set shell: true, or quote it to pass it as an argument");
                return null;
            }
        }
        return words.ConvertAll(w => w.Text);
    }

    internal static void CheckExecutable(
        NodeReader reader, YNode node, string field, string command, string cwd, bool cwdExists, Dictionary<string, string> env)
    {
        if (command.Contains('/') && !Path.IsPathRooted(command) && !cwdExists) return; // the cwd error says it all
        if (CheckExecutable(command, cwd, env) is { } message) reader.Error(node, field, message);
    }

    /// <summary>Null if <paramref name="command"/> would start, else why not.</summary>
    internal static string? CheckExecutable(string command, string cwd, IReadOnlyDictionary<string, string> env)
    {
        env.TryGetValue("PATH", out string? path);
        switch (ExecutableLookup.Find(command, cwd, path, out string? resolved))
        {
            case ExecutableLookup.Outcome.Found:
                return null;
            case ExecutableLookup.Outcome.NotExecutable:
                return $"\"{resolved}\" is not executable (chmod +x it, or run it through its interpreter)";
            default:
                if (Path.IsPathRooted(command)) return $"executable \"{command}\" not found";
                if (command.Contains('/')) return $"executable \"{command}\" not found in {cwd}";
                // `tend start app.js` in the wrong directory: a script's name, not a program's; say where it was looked for.
                if (Path.HasExtension(command) && path is not null)
                    return $"no file \"{command}\" in {cwd}, and no executable of that name on PATH";
                return path is null
                    ? $"executable \"{command}\" not found: PATH is not set"
                    : $"executable \"{command}\" not found on PATH ({path})";
        }
    }

    internal static List<string>? ReadArgs(NodeReader reader, YNode value, string field)
    {
        if (value is YScalar { IsNull: false } line)
        {
            // PM2 allows args as one string; split it the same way as run.
            if (ShellWords.TrySplit(line.Value, out var words, out string? error)) return words.ConvertAll(w => w.Text);
            reader.Error(value, field, error!);
            return null;
        }
        if (value is not YSequence seq)
        {
            reader.Error(value, field, $"expected a list of strings, got {value.Describe()}");
            return null;
        }
        var args = new List<string>(seq.Items.Count);
        for (int i = 0; i < seq.Items.Count; i++)
        {
            if (reader.TryText(seq.Items[i], $"{field}[{i}]", out string arg)) args.Add(arg);
        }
        return args;
    }

    internal static int? ReadInstances(NodeReader reader, YNode value, string field)
    {
        if (value is YScalar { IsNull: false } s)
        {
            if (string.Equals(s.Value, "max", StringComparison.OrdinalIgnoreCase)) return Environment.ProcessorCount;
            if (int.TryParse(s.Value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int n) && n >= 1)
            {
                if (n <= Limits.MaxInstances) return n;
                reader.Error(value, field, $"{n} instances is more than the {Limits.MaxInstances} Tend allows per app");
                return null;
            }
        }
        reader.Error(value, field, $"expected a whole number ≥ 1 or \"max\", got {value.Describe()}");
        return null;
    }

    internal static RestartPolicy? ReadRestart(NodeReader reader, YNode value, string field)
    {
        if (value is YScalar { IsNull: false } s)
        {
            switch (s.Value.ToLowerInvariant().Replace('_', '-'))
            {
                case "always": return RestartPolicy.Always;
                case "on-failure": return RestartPolicy.OnFailure;
                case "never": return RestartPolicy.Never;
            }
            reader.Error(value, field,
                $"expected always, on-failure or never, got {value.Describe()}{Suggest.DidYouMean(s.Value, s_restartPolicies)}");
            return null;
        }
        reader.Error(value, field, $"expected always, on-failure or never, got {value.Describe()}");
        return null;
    }

    internal static int? ReadSignal(NodeReader reader, YNode value, string field)
    {
        if (value is not YScalar { IsNull: false } s)
        {
            reader.Error(value, field, $"expected a signal name like SIGTERM or a number, got {value.Describe()}");
            return null;
        }
        if (Signals.TryParse(s.Value, out int number)) return number;
        string text = s.Value.Trim();
        if (int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _))
        {
            reader.Error(value, field, $"unknown signal {text}; Linux signal numbers are 1..64");
            return null;
        }
        string upper = text.ToUpperInvariant();
        string asName = upper.StartsWith("SIG", StringComparison.Ordinal) ? upper : "SIG" + upper;
        reader.Error(value, field, $"unknown signal \"{text}\"{Suggest.DidYouMean(asName, Signals.Names)}");
        return null;
    }

    internal static EquatableArray<int>? ReadExitCodes(NodeReader reader, YNode value, string field)
    {
        IReadOnlyList<YNode> items = value is YSequence seq ? seq.Items : [value];
        var codes = new List<int>(items.Count);
        bool ok = true;
        for (int i = 0; i < items.Count; i++)
        {
            string itemField = value is YSequence ? $"{field}[{i}]" : field;
            if (reader.TryInt(items[i], itemField, 0, 255, out int code)) codes.Add(code);
            else ok = false;
        }
        return ok ? new EquatableArray<int>(codes) : (EquatableArray<int>?)null;
    }

    private static readonly string[] s_scheduleKeys = ["cron", "timezone"];

    /// <summary>restart_schedule: "0 3 * * *", or { cron, timezone }; the expression and the zone are checked here.</summary>
    internal static RestartSchedule? ReadRestartSchedule(NodeReader reader, YNode value, string field)
    {
        YNode? cronNode = null, zoneNode = null;
        if (value is YMapping map)
        {
            foreach (var (key, _, node) in reader.Entries(map, field, s_scheduleKeys))
            {
                if (key == "cron") cronNode = node;
                else zoneNode = node;
            }
            if (cronNode is null)
            {
                reader.Error(map, field + ".cron", "a schedule needs cron: (e.g. \"0 3 * * *\")");
                return null;
            }
        }
        else cronNode = value;
        string cronField = value is YMapping ? field + ".cron" : field;
        if (!reader.TryString(cronNode, cronField, out string cron)) return null;
        if (Schedules.Parse(cron) is { Error: string error })
        {
            reader.Error(cronNode, cronField, error);
            return null;
        }
        string? zone = null;
        if (zoneNode is not null && reader.TryString(zoneNode, field + ".timezone", out string z))
        {
            if (Schedules.FindZone(z) is null)
            {
                reader.Error(zoneNode, field + ".timezone", $"unknown time zone \"{z}\" (an IANA name such as Europe/Berlin or UTC)");
                return null;
            }
            zone = z;
        }
        return new RestartSchedule(cron, zone);
    }

    private static readonly string[] s_jobKeys = ["cron", "timezone", "jitter", "concurrency", "starting_deadline", "catch_up", "timeout", "history"];

    /// <summary>schedule: "*/5 * * * *", or the mapping with cron and the job's settings.</summary>
    internal static JobSpec? ReadJob(NodeReader reader, YNode value, string field)
    {
        if (value is not YMapping map)
            return ReadRestartSchedule(reader, value, field) is { } plain ? new JobSpec(plain.Cron, plain.TimeZone) : null;
        int errorsBefore = reader.Errors.Count;
        var cronPart = new List<(YNode Key, YNode Value)>();
        JobSpec draft = new("", null);
        foreach (var (key, keyNode, node) in reader.Entries(map, field, s_jobKeys, new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["concurrency_policy"] = "Tend calls it concurrency",
            ["starting_deadline_seconds"] = "Tend calls it starting_deadline, a duration such as 5m",
            ["time_zone"] = "Tend calls it timezone",
        }))
        {
            string f = field + "." + key;
            switch (key)
            {
                case "cron" or "timezone":
                    cronPart.Add((keyNode, node));
                    break;
                case "jitter":
                    if (reader.TryDuration(node, f, out TimeSpan jitter)) draft = draft with { Jitter = jitter };
                    break;
                case "concurrency":
                    if (reader.TryString(node, f, out string concurrency))
                    {
                        switch (concurrency)
                        {
                            case "forbid": draft = draft with { Concurrency = JobConcurrency.Forbid }; break;
                            case "allow": draft = draft with { Concurrency = JobConcurrency.Allow }; break;
                            case "replace": draft = draft with { Concurrency = JobConcurrency.Replace }; break;
                            default: reader.Error(node, f, $"expected forbid, allow or replace, got \"{concurrency}\""); break;
                        }
                    }
                    break;
                case "starting_deadline":
                    if (reader.TryDuration(node, f, out TimeSpan deadline))
                    {
                        if (deadline <= TimeSpan.Zero) reader.Error(node, f, "must be more than 0 (leave it out for no deadline)");
                        else draft = draft with { StartingDeadline = deadline };
                    }
                    break;
                case "catch_up":
                    if (reader.TryBool(node, f, out bool catchUp)) draft = draft with { CatchUp = catchUp };
                    break;
                case "timeout":
                    if (reader.TryDuration(node, f, out TimeSpan timeout))
                    {
                        if (timeout <= TimeSpan.Zero) reader.Error(node, f, "must be more than 0 (leave it out for no limit)");
                        else draft = draft with { Timeout = timeout };
                    }
                    break;
                case "history":
                    if (reader.TryInt(node, f, 1, 1000, out int history)) draft = draft with { History = history };
                    break;
            }
        }
        // cron and timezone read as restart_schedule's are, from a mapping of just those two.
        var cronMap = new YMapping(map.Start, cronPart.Select(p => new KeyValuePair<YNode, YNode>(p.Key, p.Value)).ToList());
        RestartSchedule? schedule = ReadRestartSchedule(reader, cronMap, field);
        if (schedule is null || reader.Errors.Count > errorsBefore) return null;
        return draft with { Cron = schedule.Cron, TimeZone = schedule.TimeZone };
    }

    private static readonly string[] s_breakerKeys = ["max_failures", "window", "break", "max_break"];

    /// <summary>breaker: true (the defaults) or { max_failures, window, break, max_break }.</summary>
    internal static BreakerSpec? ReadBreaker(NodeReader reader, YNode value, string field)
    {
        if (value is YScalar { Value: "true" or "True" }) return BreakerSpec.Default;
        if (value is YScalar { Value: "false" or "False" }) return null;
        if (!reader.TryMapping(value, field, "true, or a mapping (max_failures, window, break, max_break)", out YMapping map)) return null;
        BreakerSpec breaker = BreakerSpec.Default;
        bool ok = true;
        foreach (var (key, _, node) in reader.Entries(map, field, s_breakerKeys))
        {
            string f = field + "." + key;
            switch (key)
            {
                case "max_failures":
                    if (reader.TryInt(node, f, 1, 10_000, out int n)) breaker = breaker with { MaxFailures = n };
                    else ok = false;
                    break;
                default:
                    if (!reader.TryDuration(node, f, out TimeSpan span)) { ok = false; break; }
                    if (span <= TimeSpan.Zero) { reader.Error(node, f, "must be above zero"); ok = false; break; }
                    breaker = key switch
                    {
                        "window" => breaker with { Window = span },
                        "break" => breaker with { Break = span },
                        _ => breaker with { MaxBreak = span },
                    };
                    break;
            }
        }
        if (ok && breaker.MaxBreak < breaker.Break)
        {
            reader.Error(map, field + ".max_break", $"max_break ({Units.FormatDuration(breaker.MaxBreak)}) is shorter than break ({Units.FormatDuration(breaker.Break)})");
            ok = false;
        }
        return ok ? breaker : null;
    }

    internal static BackoffSpec? ReadBackoff(NodeReader reader, YNode value, string field)
    {
        if (value is YScalar s)
        {
            switch (s.Value.ToLowerInvariant())
            {
                case "false" or "none":
                    return new BackoffSpec(TimeSpan.Zero, TimeSpan.Zero, 1.0, 0.0);
                case "true":
                    return BackoffSpec.Default;
            }
        }
        if (value is not YMapping map)
        {
            reader.Error(value, field, $"expected a mapping (initial, max, multiplier, jitter), or false for none, got {value.Describe()}");
            return null;
        }
        BackoffSpec backoff = BackoffSpec.Default;
        bool ok = true;
        foreach (var (key, _, node) in reader.Entries(map, field, s_backoffKeys))
        {
            if (NodeReader.IsNull(node)) continue;
            string f = field + "." + key;
            switch (key)
            {
                case "initial":
                    if (reader.TryDuration(node, f, out TimeSpan initial)) backoff = backoff with { Initial = initial };
                    else ok = false;
                    break;
                case "max":
                    if (reader.TryDuration(node, f, out TimeSpan max)) backoff = backoff with { Max = max };
                    else ok = false;
                    break;
                case "multiplier":
                    if (reader.TryDouble(node, f, 1, double.PositiveInfinity, out double multiplier)) backoff = backoff with { Multiplier = multiplier };
                    else ok = false;
                    break;
                case "jitter":
                    if (reader.TryDouble(node, f, 0, 1, out double jitter)) backoff = backoff with { Jitter = jitter };
                    else ok = false;
                    break;
            }
        }
        return ok ? backoff : null;
    }

    internal static void ReadIncrementVar(NodeReader reader, YNode value, string field, AppSectionReader.AppDraft draft)
    {
        draft.IncrementNode = value;
        if (value is YMapping map)
        {
            string? name = null;
            foreach (var (key, keyNode, node) in reader.Entries(map, field, s_incrementKeys))
            {
                string f = field + "." + key;
                if (key == "name" && reader.TryString(node, f, out string n)) name = n;
                else if (key == "start" && !NodeReader.IsNull(node))
                {
                    if (node is YScalar ss && long.TryParse(ss.Value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long start))
                    {
                        draft.IncrementStart = start;
                    }
                    else
                    {
                        reader.Error(node, f, $"expected a whole number, got {node.Describe()}");
                    }
                }
            }
            if (name is null)
            {
                reader.Error(value, field, "missing name: the variable to count up, as { name: PORT, start: 3000 }");
                return;
            }
            SetIncrementName(reader, value, field, draft, name);
        }
        else if (reader.TryString(value, field, out string name))
        {
            SetIncrementName(reader, value, field, draft, name);
        }
    }

    internal static void SetIncrementName(NodeReader reader, YNode value, string field, AppSectionReader.AppDraft draft, string name)
    {
        if (EnvSectionReader.IsValidEnvName(name)) draft.IncrementName = name;
        else reader.Error(value, field, $"\"{name}\" is not a valid environment variable name");
    }

    internal static LogSpec? ReadLog(ConfigFileContext context, YNode value, string field)
    {
        NodeReader reader = context.Reader;
        if (!reader.TryMapping(value, field, "a mapping (out_file, err_file, timestamps, format, max_size, max_files)", out YMapping map)) return null;
        LogSpec log = LogSpec.Default;
        bool ok = true;
        foreach (var (key, _, node) in reader.Entries(map, field, s_logKeys))
        {
            if (NodeReader.IsNull(node)) continue;
            string f = field + "." + key;
            switch (key)
            {
                case "out_file":
                case "err_file":
                    if (!reader.TryString(node, f, out string path))
                    {
                        ok = false;
                    }
                    else if (string.IsNullOrWhiteSpace(path))
                    {
                        reader.Error(node, f, "expected a file path, got an empty string");
                        ok = false;
                    }
                    else
                    {
                        string full = Path.GetFullPath(path, context.BaseDir);
                        log = key == "out_file" ? log with { OutFile = full } : log with { ErrFile = full };
                    }
                    break;
                case "timestamps":
                    if (reader.TryBool(node, f, out bool timestamps)) log = log with { Timestamps = timestamps };
                    else ok = false;
                    break;
                case "format":
                    switch ((node as YScalar)?.Value.ToLowerInvariant())
                    {
                        case "text": log = log with { Format = LogFormat.Text }; break;
                        case "json": log = log with { Format = LogFormat.Json }; break;
                        default:
                            reader.Error(node, f, $"expected text or json, got {node.Describe()}");
                            ok = false;
                            break;
                    }
                    break;
                case "max_size":
                    if (reader.TrySize(node, f, out long maxSize)) log = log with { MaxSizeBytes = maxSize };
                    else ok = false;
                    break;
                case "max_files":
                    if (reader.TryInt(node, f, 1, int.MaxValue, out int maxFiles)) log = log with { MaxFiles = maxFiles };
                    else ok = false;
                    break;
            }
        }
        if (ok && log.OutFile is not null && log.OutFile == log.ErrFile)
        {
            // Two writers on one file: each would rotate it under the other, and `tend logs` would show every line twice.
            reader.Error(value, field + ".err_file",
                "is the same file as out_file; Tend keeps stdout and stderr apart (tend logs shows them merged, in order)");
            ok = false;
        }
        return ok ? log : null;
    }
}
