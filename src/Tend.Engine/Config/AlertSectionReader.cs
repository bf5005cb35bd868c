using System.Globalization;
using System.Text.RegularExpressions;

namespace Tend.Config;

/// <summary>
/// alerts: and channels: (docs/alerts.md). Rules are read in order; the names a rule matches and the
/// channels it notifies are checked once the whole file is read, since apps, supervisors and channels
/// may be declared after the rules that use them.
/// </summary>
internal static class AlertSectionReader
{
    internal static readonly string[] s_ruleKeys =
    [
        "name", "match", "on", "metric", "above", "below", "for", "window", "pattern",
        "anomaly", "k", "resolve_k", "min_samples", "baseline", "min_delta", "direction",
        "leak", "min_rate", "min_fit",
        "resolve_after", "repeat_interval", "severity", "summary", "notify",
        "webhook", "slack", "command", "alertmanager", "secret", "secret_env", "timeout", "give_up_after",
    ];
    internal static readonly string[] s_channelKeys = ["webhook", "slack", "command", "alertmanager", "secret", "secret_env", "timeout", "give_up_after"];
    private static readonly string[] s_channelKinds = ["webhook", "slack", "command", "alertmanager"];

    /// <summary>The events a rule can fire on (docs/alerts.md#events).</summary>
    internal static readonly string[] s_events =
    [
        "crash", "crash_loop", "errored", "oom", "liveness_failed", "watchdog", "not_ready", "memory_limit",
        "spawn_failed", "blocked", "held", "breaker_open", "reload_failed", "deploy_failed", "deploy_rolled_back", "supervisor_failed",
        "job_failed", "job_missed", "job_skipped",
    ];

    /// <summary>The series a threshold or an anomaly can watch (docs/alerts.md#series).</summary>
    internal static readonly string[] s_metrics =
    [
        "cpu", "memory", "restarts", "log", "probe_latency",
        "dotnet.gc_heap", "dotnet.working_set", "dotnet.threadpool_queue", "dotnet.threadpool_threads",
        "dotnet.time_in_gc", "dotnet.alloc_rate",
    ];

    internal static readonly string[] s_leakSeries = ["memory", "rss", "gc_heap"];
    private static readonly string[] s_severities = ["info", "warning", "critical"];

    internal static readonly string[] s_diagnosticKeys = ["name", "when", "match", "collect", "duration", "count", "per", "min_free_memory"];
    internal static readonly string[] s_collections = ["dump", "gcdump", "trace", "core", "heapsnapshot"];

    /// <summary>What one file declares, with positions, for the checks at the end.</summary>
    internal sealed class AlertsDraft
    {
        public List<(DiagnosticRuleSpec Rule, List<(string Name, YNode Node)> When)> Diagnostics { get; } = [];
        public List<(AlertRuleSpec Rule, YNode Node, List<(string Name, YNode Node)> Match, List<(string Name, YNode Node)> Notify)> Rules { get; } = [];
        public Dictionary<string, (ChannelSpec Channel, YNode Node)> Channels { get; } = new(StringComparer.Ordinal);
        public List<ChannelSpec> Inline { get; } = [];
        public bool Any => Rules.Count > 0 || Channels.Count > 0;
    }

    public static void ReadChannels(ConfigFileContext context, YNode value)
    {
        NodeReader reader = context.Reader;
        if (NodeReader.IsNull(value)) return;
        if (!reader.TryMapping(value, "channels", "a mapping of channel name to a webhook:, slack:, command: or alertmanager:", out YMapping map)) return;
        foreach (var (keyNode, node) in map.Entries)
        {
            if (keyNode is not YScalar { IsNull: false } key)
            {
                reader.Error(keyNode, "channels", $"expected a channel name, got {keyNode.Describe()}");
                continue;
            }
            string field = "channels." + key.Value;
            if (ConfigLoader.ValidateName(key.Value, "channel") is { } nameError)
            {
                reader.Error(keyNode, field, nameError);
                continue;
            }
            if (context.Alerts.Channels.TryGetValue(key.Value, out var first))
            {
                reader.Error(keyNode, field, $"duplicate channel \"{key.Value}\"; first defined at line {first.Node.Start.Line}");
                continue;
            }
            if (!reader.TryMapping(node, field, "a mapping with webhook:, slack:, command: or alertmanager:", out YMapping channelMap)) continue;
            var draft = new ChannelDraft();
            foreach (var (k, kNode, v) in reader.Entries(channelMap, field, s_channelKeys))
                ReadChannelKey(context, draft, k, kNode, v, field);
            if (draft.Build(reader, key.Value, channelMap, field) is { } channel)
                context.Alerts.Channels[key.Value] = (channel, keyNode);
        }
    }

    public static void ReadDiagnostics(ConfigFileContext context, YNode value)
    {
        NodeReader reader = context.Reader;
        if (NodeReader.IsNull(value)) return;
        if (value is not YSequence seq)
        {
            reader.Error(value, "diagnostics", $"expected a list of collection rules (- name: …, when: …, collect: …), got {value.Describe()}");
            return;
        }
        var names = new Dictionary<string, YNode>(StringComparer.Ordinal);
        for (int i = 0; i < seq.Items.Count; i++)
        {
            string field = $"diagnostics[{i}]";
            if (!reader.TryMapping(seq.Items[i], field, "a mapping with name:, when: and collect:", out YMapping map)) continue;
            int before = reader.Errors.Count;
            var rule = new DiagnosticRuleSpec { Name = "", When = EquatableArray<string>.Empty, Collect = "" };
            var when = new List<(string, YNode)>();
            var match = new List<(string, YNode)>();
            foreach (var (key, _, v) in reader.Entries(map, field, s_diagnosticKeys))
            {
                string f = Join(field, key);
                switch (key)
                {
                    case "name":
                        if (reader.TryString(v, f, out string n))
                        {
                            if (ConfigLoader.ValidateName(n, "rule") is { } error) reader.Error(v, f, error);
                            else if (names.TryGetValue(n, out YNode? first)) reader.Error(v, f, $"duplicate rule name \"{n}\"; first used at line {first.Start.Line}");
                            else { names[n] = v; rule = rule with { Name = n }; }
                        }
                        break;
                    case "when": ReadNames(reader, v, f, when); break;
                    case "match": ReadNames(reader, v, f, match); break;
                    case "collect":
                        if (reader.TryString(v, f, out string c))
                        {
                            if (s_collections.Contains(c)) rule = rule with { Collect = c };
                            else reader.Error(v, f, $"expected one of {string.Join(", ", s_collections)}, got \"{c}\"{Suggest.DidYouMean(c, s_collections)}");
                        }
                        break;
                    case "duration":
                        if (reader.TryDuration(v, f, out TimeSpan d))
                        {
                            if (d < TimeSpan.FromSeconds(1) || d > TimeSpan.FromMinutes(10)) reader.Error(v, f, "a collection lasts 1s to 10m");
                            else rule = rule with { Duration = d };
                        }
                        break;
                    case "count": if (reader.TryInt(v, f, 1, 1000, out int count)) rule = rule with { Count = count }; break;
                    case "per": if (reader.TryDuration(v, f, out TimeSpan per)) rule = rule with { Per = per }; break;
                    case "min_free_memory": if (reader.TrySize(v, f, out long free)) rule = rule with { MinFreeMemory = free }; break;
                }
            }
            if (rule.Name.Length == 0 && !map.Entries.Any(e => e.Key is YScalar { Value: "name" })) reader.Error(map, Join(field, "name"), "a collection rule needs a name:");
            if (when.Count == 0 && !map.Entries.Any(e => e.Key is YScalar { Value: "when" })) reader.Error(map, Join(field, "when"), "a collection rule needs when: (alert rule names, or memory_limit)");
            if (rule.Collect.Length == 0 && !map.Entries.Any(e => e.Key is YScalar { Value: "collect" })) reader.Error(map, Join(field, "collect"), $"a collection rule needs collect: ({string.Join(", ", s_collections)})");
            if (reader.Errors.Count > before) continue;
            context.Alerts.Diagnostics.Add((rule with
            {
                When = new EquatableArray<string>(when.Select(w => w.Item1)),
                Match = new EquatableArray<string>(match.Select(m => m.Item1)),
            }, when));
        }
    }

    public static void ReadAlerts(ConfigFileContext context, YNode value)
    {
        NodeReader reader = context.Reader;
        if (NodeReader.IsNull(value)) return;
        if (value is not YSequence seq)
        {
            reader.Error(value, "alerts", $"expected a list of rules (- name: …, match: …, on: …), got {value.Describe()}");
            return;
        }
        var names = new Dictionary<string, YNode>(StringComparer.Ordinal);
        for (int i = 0; i < seq.Items.Count; i++)
        {
            string field = $"alerts[{i}]";
            if (!reader.TryMapping(seq.Items[i], field, "a rule: a mapping with name:, match: and on:, metric:, anomaly: or leak:", out YMapping map)) continue;
            if (ReadRule(context, map, field, names) is { } rule) context.Alerts.Rules.Add(rule);
        }
    }

    private static (AlertRuleSpec, YNode, List<(string, YNode)>, List<(string, YNode)>)? ReadRule(
        ConfigFileContext context, YMapping map, string field, Dictionary<string, YNode> names)
    {
        NodeReader reader = context.Reader;
        int errorsBefore = reader.Errors.Count;
        string? name = null;
        YNode? nameNode = null;
        var match = new List<(string, YNode)>();
        var notify = new List<(string, YNode)>();
        var channel = new ChannelDraft();
        string? on = null, metric = null, pattern = null, severity = null, summary = null;
        AlertKind? kind = null;
        YNode? kindNode = null;
        double? above = null, below = null, minDelta = null;
        YNode? aboveNode = null, belowNode = null;
        TimeSpan forSpan = TimeSpan.Zero, window = TimeSpan.Zero, resolveAfter = TimeSpan.FromSeconds(10);
        TimeSpan? repeat = null;
        double k = 4, resolveK = -1, minRate = -1, minFit = 0.8;
        int minSamples = 30, baseline = 300;
        AnomalyDirection direction = AnomalyDirection.Up;
        bool sawWindow = false;

        void Kind(AlertKind which, YNode node, string key)
        {
            if (kind is not null)
            {
                reader.Error(node, Join(field, key), $"a rule watches one thing: it already has {Describe(kind.Value)} (line {kindNode!.Start.Line}); write a second rule");
                return;
            }
            kind = which;
            kindNode = node;
        }

        foreach (var (key, keyNode, value) in reader.Entries(map, field, s_ruleKeys))
        {
            string f = Join(field, key);
            switch (key)
            {
                case "name":
                    if (reader.TryString(value, f, out string n))
                    {
                        if (ConfigLoader.ValidateName(n, "rule") is { } error) reader.Error(value, f, error);
                        else if (names.TryGetValue(n, out YNode? first)) reader.Error(value, f, $"duplicate rule name \"{n}\"; first used at line {first.Start.Line}");
                        else { name = n; nameNode = value; names[n] = value; }
                    }
                    break;
                case "match":
                    ReadNames(reader, value, f, match);
                    break;
                case "notify":
                    ReadNames(reader, value, f, notify);
                    break;
                case "on":
                    Kind(AlertKind.Event, keyNode, key);
                    if (reader.TryString(value, f, out string ev))
                    {
                        if (s_events.Contains(ev)) on = ev;
                        else reader.Error(value, f, $"unknown event \"{ev}\"{Suggest.DidYouMean(ev, s_events)}; one of {string.Join(", ", s_events)}");
                    }
                    break;
                case "metric":
                    Kind(AlertKind.Threshold, keyNode, key);
                    metric = ReadMetric(reader, value, f);
                    break;
                case "anomaly":
                    Kind(AlertKind.Anomaly, keyNode, key);
                    metric = ReadMetric(reader, value, f);
                    break;
                case "leak":
                    Kind(AlertKind.Leak, keyNode, key);
                    if (value is YScalar { Value: "true" or "True" }) metric = "memory";
                    else if (reader.TryString(value, f, out string series))
                    {
                        if (s_leakSeries.Contains(series)) metric = series;
                        else reader.Error(value, f, $"expected true, memory (the GC heap for .NET apps, else the memory Tend measures), rss or gc_heap, got \"{series}\"");
                    }
                    break;
                case "above": aboveNode = value; break;
                case "below": belowNode = value; break;
                case "for": reader.TryDuration(value, f, out forSpan); break;
                case "window": sawWindow = reader.TryDuration(value, f, out window); break;
                case "pattern":
                    if (reader.TryString(value, f, out string p))
                    {
                        try { _ = new Regex(p, RegexOptions.None, TimeSpan.FromSeconds(1)); pattern = p; }
                        catch (ArgumentException ex) { reader.Error(value, f, "not a valid regular expression: " + ex.Message); }
                    }
                    break;
                case "k": reader.TryDouble(value, f, 0.5, 100, out k); break;
                case "resolve_k": reader.TryDouble(value, f, 0, 100, out resolveK); break;
                case "min_samples": reader.TryInt(value, f, 5, 100_000, out minSamples); break;
                case "baseline": reader.TryInt(value, f, 10, 100_000, out baseline); break;
                case "min_delta": if (reader.TryDouble(value, f, 0, double.PositiveInfinity, out double d)) minDelta = d; break;
                case "direction":
                    switch ((value as YScalar)?.Value)
                    {
                        case "up": direction = AnomalyDirection.Up; break;
                        case "down": direction = AnomalyDirection.Down; break;
                        case "both": direction = AnomalyDirection.Both; break;
                        default: reader.Error(value, f, $"expected up, down or both, got {value.Describe()}"); break;
                    }
                    break;
                case "min_rate":
                    if (value is YScalar { IsNull: false } rateText && TryParseRate(rateText.Value, out double rate)) minRate = rate;
                    else reader.Error(value, f, $"expected a growth rate like 1M/s, 50M/h or 500K/min, got {value.Describe()}");
                    break;
                case "min_fit": reader.TryDouble(value, f, 0, 1, out minFit); break;
                case "resolve_after": reader.TryDuration(value, f, out resolveAfter); break;
                case "repeat_interval":
                    if (reader.TryDuration(value, f, out TimeSpan r))
                    {
                        if (r < TimeSpan.FromSeconds(1)) reader.Error(value, f, "repeat_interval must be at least 1s");
                        else repeat = r;
                    }
                    break;
                case "severity":
                    if (reader.TryString(value, f, out string sev))
                    {
                        if (s_severities.Contains(sev)) severity = sev;
                        else reader.Error(value, f, $"expected info, warning or critical, got \"{sev}\"");
                    }
                    break;
                case "summary": if (reader.TryString(value, f, out string s)) summary = s; break;
                default:
                    ReadChannelKey(context, channel, key, keyNode, value, field);
                    break;
            }
        }

        if (name is null && !map.Entries.Any(e => e.Key is YScalar { Value: "name" })) reader.Error(map, Join(field, "name"), "a rule needs a name:");
        if (match.Count == 0 && !map.Entries.Any(e => e.Key is YScalar { Value: "match" }))
            reader.Error(map, Join(field, "match"), "a rule needs match: (app names, globs like web-* or *, or a supervisor's name)");
        if (kind is null)
        {
            reader.Error(map, field, "a rule needs what it watches: on: (an event), metric: with above:/below:, anomaly: (a series) or leak: true");
            return null;
        }
        string rf = name is null ? field : $"alerts.{name}";
        if (aboveNode is not null) above = ReadLevel(reader, aboveNode, Join(field, "above"), metric);
        if (belowNode is not null) below = ReadLevel(reader, belowNode, Join(field, "below"), metric);
        switch (kind)
        {
            case AlertKind.Threshold:
                if (aboveNode is null && belowNode is null) reader.Error(kindNode!, Join(field, "metric"), "a metric rule needs above: or below:");
                if (metric is "restarts" or "log" && !sawWindow) window = TimeSpan.FromMinutes(5);
                break;
            case AlertKind.Event or AlertKind.Anomaly or AlertKind.Leak:
                if (aboveNode is not null || belowNode is not null)
                    reader.Error(aboveNode ?? belowNode!, Join(field, aboveNode is not null ? "above" : "below"), $"above:/below: belong to a metric: rule, not to {Describe(kind.Value)}");
                break;
        }
        if (metric == "log" && pattern is null && kind != AlertKind.Leak) reader.Error(kindNode!, Join(field, "pattern"), "metric: log counts the lines matching pattern:; add one");
        if (pattern is not null && metric != "log") reader.Error(map, Join(field, "pattern"), "pattern: belongs to metric: log");
        if (kind == AlertKind.Anomaly)
        {
            if (resolveK < 0) resolveK = k / 2;
            if (resolveK >= k) reader.Error(map, Join(field, "resolve_k"), $"resolve_k ({Inv(resolveK)}) must be below k ({Inv(k)}), or the alert cannot settle");
            if (minSamples > baseline) reader.Error(map, Join(field, "min_samples"), $"min_samples ({minSamples}) cannot exceed baseline ({baseline}), the samples it remembers");
            if (metric is "restarts" or "log" && !sawWindow) window = TimeSpan.FromMinutes(5);
        }
        if (kind == AlertKind.Leak)
        {
            if (!sawWindow) window = TimeSpan.FromMinutes(30);
            else if (window < TimeSpan.FromSeconds(10)) reader.Error(map, Join(field, "window"), "a leak's window must be at least 10s");
            if (minRate < 0) minRate = 10.0 * 1024 * 1024 / 3600; // 10 MiB an hour
        }
        if (channel.Any)
        {
            if (name is not null && channel.Build(reader, name, map, rf) is { } inline)
            {
                context.Alerts.Inline.Add(inline);
                notify.Add((inline.Name, map));
            }
        }
        if (reader.Errors.Count > errorsBefore || name is null) return null;

        var rule = new AlertRuleSpec
        {
            Name = name,
            Match = new EquatableArray<string>(match.Select(m => m.Item1)),
            Kind = kind.Value,
            On = on,
            Metric = metric,
            Above = above,
            Below = below,
            For = forSpan,
            Window = window,
            Pattern = pattern,
            K = k,
            ResolveK = resolveK < 0 ? k / 2 : resolveK,
            MinSamples = minSamples,
            Baseline = baseline,
            MinDelta = minDelta,
            Direction = direction,
            MinRate = minRate < 0 ? 0 : minRate,
            MinFit = minFit,
            ResolveAfter = resolveAfter,
            RepeatInterval = repeat,
            Severity = severity ?? (on is "crash_loop" or "errored" or "oom" or "supervisor_failed" ? "critical" : "warning"),
            Summary = summary,
            Notify = new EquatableArray<string>(notify.Select(n => n.Item1)),
        };
        return (rule, nameNode!, match, notify);
    }

    /// <summary>Once every app, supervisor and channel is read: what each rule matches and notifies must exist.</summary>
    public static AlertsSpec Validate(ConfigFileContext context)
    {
        NodeReader reader = context.Reader;
        var supervisors = context.Tree.Supervisors.Select(s => s.Name).ToList();
        var targets = context.Tree.AppNames.Keys.Concat(supervisors).ToList();
        var channelNames = context.Alerts.Channels.Keys.Concat(context.Alerts.Inline.Select(c => c.Name)).ToHashSet(StringComparer.Ordinal);
        foreach (var (rule, _, match, notify) in context.Alerts.Rules)
        {
            foreach (var (m, node) in match)
            {
                if (IsGlob(m) || targets.Contains(m)) continue;
                reader.Error(node, $"alerts.{rule.Name}.match", $"no app or supervisor named \"{m}\" in this file{Suggest.DidYouMean(m, targets)}");
            }
            foreach (var (c, node) in notify)
            {
                if (channelNames.Contains(c)) continue;
                reader.Error(node, $"alerts.{rule.Name}.notify", context.Alerts.Channels.Count == 0
                    ? $"no channel named \"{c}\": declare it under channels:"
                    : $"no channel named \"{c}\" under channels:{Suggest.DidYouMean(c, context.Alerts.Channels.Keys)}");
            }
        }
        var ruleNames = context.Alerts.Rules.Select(r => r.Rule.Name).ToList();
        foreach (var (rule, when) in context.Alerts.Diagnostics)
        {
            foreach (var (w, node) in when)
            {
                if (w == "memory_limit" || ruleNames.Contains(w)) continue;
                reader.Error(node, $"diagnostics.{rule.Name}.when", $"no alert rule named \"{w}\" in this file (or memory_limit){Suggest.DidYouMean(w, [.. ruleNames, "memory_limit"])}");
            }
        }
        return new AlertsSpec(
            new EquatableArray<AlertRuleSpec>(context.Alerts.Rules.Select(r => r.Rule)),
            new EquatableArray<ChannelSpec>(context.Alerts.Channels.Values.Select(c => c.Channel).Concat(context.Alerts.Inline)))
        {
            Diagnostics = new EquatableArray<DiagnosticRuleSpec>(context.Alerts.Diagnostics.Select(d => d.Rule)),
        };
    }

    public static bool IsGlob(string pattern) => pattern.IndexOfAny(['*', '?', '[']) >= 0;

    private static void ReadNames(NodeReader reader, YNode value, string field, List<(string, YNode)> into)
    {
        if (value is YSequence seq)
        {
            for (int i = 0; i < seq.Items.Count; i++)
                if (reader.TryString(seq.Items[i], $"{field}[{i}]", out string s)) into.Add((s, seq.Items[i]));
            if (seq.Items.Count == 0) reader.Error(value, field, "the list is empty");
            return;
        }
        if (reader.TryString(value, field, out string one))
        {
            foreach (string part in one.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)) into.Add((part, value));
        }
    }

    private static string? ReadMetric(NodeReader reader, YNode value, string field)
    {
        if (!reader.TryString(value, field, out string metric)) return null;
        if (s_metrics.Contains(metric)) return metric;
        reader.Error(value, field, $"unknown series \"{metric}\"{Suggest.DidYouMean(metric, s_metrics)}; one of {string.Join(", ", s_metrics)}");
        return null;
    }

    /// <summary>A level in the series' own unit: sizes for memory, durations (as seconds) for latency, a percentage for CPU.</summary>
    private static double? ReadLevel(NodeReader reader, YNode node, string field, string? metric)
    {
        string? text = (node as YScalar)?.Value;
        if (node is YScalar { IsNull: false } && text is not null)
        {
            if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double plain) && double.IsFinite(plain) && plain >= 0) return plain;
            switch (metric)
            {
                case "memory" or "dotnet.gc_heap" or "dotnet.working_set" or "dotnet.alloc_rate":
                    if (Units.TryParseSize(text, out long bytes)) return bytes;
                    reader.Error(node, field, $"expected a size like 200M or 1G, got {node.Describe()}");
                    return null;
                case "probe_latency":
                    if (Units.TryParseDuration(text, out TimeSpan span)) return span.TotalSeconds;
                    reader.Error(node, field, $"expected a duration like 250ms or 2s, got {node.Describe()}");
                    return null;
                case "cpu" or "dotnet.time_in_gc":
                    if (text.EndsWith('%') && double.TryParse(text[..^1], NumberStyles.Float, CultureInfo.InvariantCulture, out double pct) && pct >= 0) return pct;
                    break;
            }
        }
        reader.Error(node, field, $"expected a number ≥ 0, got {node.Describe()}");
        return null;
    }

    /// <summary>"1M/s", "50M/h", "500K/min" as bytes per second.</summary>
    internal static bool TryParseRate(string text, out double bytesPerSecond)
    {
        bytesPerSecond = 0;
        int slash = text.IndexOf('/');
        if (slash <= 0 || !Units.TryParseSize(text[..slash], out long bytes)) return false;
        double seconds = text[(slash + 1)..].Trim() switch
        {
            "s" or "sec" or "second" => 1,
            "m" or "min" or "minute" => 60,
            "h" or "hour" => 3600,
            "d" or "day" => 86400,
            _ => 0,
        };
        if (seconds == 0) return false;
        bytesPerSecond = bytes / seconds;
        return true;
    }

    private static void ReadChannelKey(ConfigFileContext context, ChannelDraft draft, string key, YNode keyNode, YNode value, string field)
    {
        NodeReader reader = context.Reader;
        string f = Join(field, key);
        switch (key)
        {
            case "webhook" or "slack" or "alertmanager":
                draft.SetKind(reader, key, keyNode, f);
                if (reader.TryString(value, f, out string url))
                {
                    if (Uri.TryCreate(url, UriKind.Absolute, out Uri? uri) && uri.Scheme is "http" or "https") draft.Url = url;
                    else reader.Error(value, f, $"expected an http:// or https:// URL, got \"{url}\"");
                }
                break;
            case "command":
                draft.SetKind(reader, key, keyNode, f);
                if (value is YSequence seq)
                {
                    var argv = new List<string>();
                    for (int i = 0; i < seq.Items.Count; i++) if (reader.TryString(seq.Items[i], $"{f}[{i}]", out string a)) argv.Add(a);
                    if (argv.Count == 0) reader.Error(value, f, "the command is empty");
                    draft.Command = argv;
                }
                else if (reader.TryString(value, f, out string line))
                {
                    if (!ShellWords.TrySplit(line, out var words, out string? error)) reader.Error(value, f, error!);
                    else if (words.Count == 0) reader.Error(value, f, "the command is empty");
                    else draft.Command = words.ConvertAll(w => w.Text);
                }
                break;
            case "secret":
                if (reader.TryText(value, f, out string secret))
                {
                    if (secret.Length == 0) reader.Error(value, f, "the secret is empty");
                    else draft.Secret = secret;
                }
                draft.SecretNode = keyNode;
                break;
            case "secret_env":
                if (reader.TryString(value, f, out string variable))
                {
                    if (context.BaseEnvironment.TryGetValue(variable, out string? fromEnv) && fromEnv.Length > 0) draft.Secret = fromEnv;
                    else reader.Error(value, f, $"the environment variable {variable} is not set (or empty) where tend start runs");
                }
                draft.SecretNode = keyNode;
                break;
            case "timeout":
                if (reader.TryDuration(value, f, out TimeSpan timeout))
                {
                    if (timeout <= TimeSpan.Zero) reader.Error(value, f, "the timeout must be above zero");
                    else draft.Timeout = timeout;
                }
                break;
            case "give_up_after":
                if (reader.TryDuration(value, f, out TimeSpan giveUp))
                {
                    if (giveUp < TimeSpan.FromSeconds(1)) reader.Error(value, f, "give_up_after must be at least 1s");
                    else draft.GiveUpAfter = giveUp;
                }
                break;
        }
    }

    private sealed class ChannelDraft
    {
        public ChannelKind? Kind;
        public YNode? KindNode;
        public string? Url;
        public List<string>? Command;
        public string? Secret;
        public YNode? SecretNode;
        public TimeSpan Timeout = TimeSpan.FromSeconds(10);
        public TimeSpan GiveUpAfter = TimeSpan.FromHours(24);

        public bool Any => KindNode is not null || SecretNode is not null;

        public void SetKind(NodeReader reader, string key, YNode node, string field)
        {
            if (KindNode is not null)
            {
                reader.Error(node, field, $"one channel per entry: this one is already a {Kind.ToString()!.ToLowerInvariant()} (line {KindNode.Start.Line}); use notify: with channels: for more");
                return;
            }
            Kind = Enum.Parse<ChannelKind>(key, ignoreCase: true);
            KindNode = node;
        }

        public ChannelSpec? Build(NodeReader reader, string name, YNode at, string field)
        {
            if (Kind is null)
            {
                reader.Error(at, field, $"no channel: add one of {string.Join(", ", s_channelKinds)}");
                return null;
            }
            if (Secret is not null && Kind is not ChannelKind.Webhook)
            {
                reader.Error(SecretNode!, Join(field, "secret"), "secret: signs webhook: bodies; a " + Kind.ToString()!.ToLowerInvariant() + " channel has no signature");
                return null;
            }
            if (Kind == ChannelKind.Command ? Command is null : Url is null) return null; // already reported
            return new ChannelSpec
            {
                Name = name,
                Kind = Kind.Value,
                Url = Url,
                Command = new EquatableArray<string>(Command ?? []),
                Secret = Secret,
                Timeout = Timeout,
                GiveUpAfter = GiveUpAfter,
            };
        }
    }

    private static string Describe(AlertKind kind) => kind switch
    {
        AlertKind.Event => "on: (an event)",
        AlertKind.Threshold => "metric:",
        AlertKind.Anomaly => "anomaly:",
        _ => "leak:",
    };

    private static string Join(string field, string key) => NodeReader.Join(field, key);
    private static string Inv(double d) => d.ToString(CultureInfo.InvariantCulture);
}
