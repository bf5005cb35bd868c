using System.Globalization;
using System.IO.Enumeration;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using Tend.Config;
using Tend.Events;
using Tend.Supervision;

namespace Tend.Alerts;

/// <summary>
/// The daemon's alerting (docs/alerts.md). It watches what the engine already publishes — lifecycle
/// events (<see cref="EventHub"/>) and the resource sampler's passes (<see cref="Supervisor.Sampled"/>) —
/// against the rules of every started config, keeps one alert per fingerprint (rule + app + instance)
/// through pending, firing and resolved, and hands notifications to the <see cref="AlertOutbox"/>.
/// </summary>
/// <remarks>
/// <para>One lock guards the rules and the alerts; evaluation is cheap (no I/O under it but the small
/// state file). A one-second timer drives what only time changes: <c>for:</c> of event rules, the
/// quiet period after which an event alert resolves, <c>repeat_interval</c>, and sending. Firing
/// alerts are sent on the tick after they fire, so an outage's first alert and its consequences are
/// seen together and inhibition (a crash mutes its own probe alerts and everything of its dependents)
/// can decide before anything is sent.</para>
/// <para>Rules, active alerts and the outbox live under <c>$TEND_HOME/alerts/</c>, so a daemon restart
/// neither forgets an alert that is firing (its resolve still comes) nor a notification not yet delivered.</para>
/// </remarks>
public sealed class AlertEngine : IAsyncDisposable
{
    public const int RecentKept = 100;

    /// <summary>Events that mean an instance (or a supervisor) is down: they mute symptom alerts and dependents.</summary>
    private static readonly HashSet<string> s_downEvents = new(StringComparer.Ordinal)
    { "crash", "crash_loop", "errored", "oom", "memory_limit", "spawn_failed", "blocked", "liveness_failed", "watchdog", "supervisor_failed", "breaker_open" };

    /// <summary>Alerts a crash of the same app explains: what its probes say while it is down.</summary>
    private static readonly HashSet<string> s_symptomEvents = new(StringComparer.Ordinal) { "not_ready", "liveness_failed", "watchdog", "held" };

    private readonly Supervisor _supervisor;
    private readonly string _dir;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, AlertsSpec> _sets = new(StringComparer.Ordinal);
    private List<(string Source, AlertRuleSpec Rule)> _rules = [];
    private Dictionary<string, ChannelSpec> _channels = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ActiveAlert> _active = new(StringComparer.Ordinal);
    private readonly LinkedList<AlertSnapshot> _recent = new();
    private readonly Dictionary<(string Rule, string App, int Instance), Series> _series = [];
    private readonly Dictionary<(string App, int Instance), Queue<DateTimeOffset>> _restarts = [];
    private readonly Dictionary<(string Rule, string App, int Instance), LogWatch> _logWatches = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly AlertOutbox _outbox;
    private Task _events = Task.CompletedTask;
    private ITimer? _timer;
    private bool _ticking;
    private Dictionary<string, HashSet<string>>? _subtrees;
    private DateTimeOffset _subtreesAt;
    private long _notificationSeq;
    private bool _started;

    public AlertEngine(Supervisor supervisor, string home, TimeProvider time, ILoggerFactory loggers, HttpClient http, IReadOnlyDictionary<string, string> environment)
    {
        _supervisor = supervisor;
        _dir = Path.Combine(home, "alerts");
        _time = time;
        _logger = loggers.CreateLogger("tend.alerts");
        _outbox = new AlertOutbox(_dir, time, _logger, new AlertChannels(http, time, environment), ChannelNamed, OnUndeliverable);
    }

    private string RulesPath => Path.Combine(_dir, "rules.json");
    private string ActivePath => Path.Combine(_dir, "active.json");

    /// <summary>Load the rules and alerts of the previous run, subscribe to events and samples, start delivering.</summary>
    public void Start()
    {
        Directory.CreateDirectory(_dir);
        lock (_gate)
        {
            LoadLocked();
            RebuildLocked();
            _started = true;
        }
        _outbox.Start();
        long after = _supervisor.Events.LastSequence;
        _events = Task.Run(() => FollowEventsAsync(after, _stop.Token));
        _supervisor.Sampled += OnSampled;
        lock (_gate)
        {
            _timer = _time.CreateTimer(_ => Tick(), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            ArmLocked();
        }
    }

    /// <summary>
    /// The tick runs once a second while there is a rule or an alert to look after, and not at all
    /// otherwise: a daemon without alerts should not wake for them (docs/benchmarks.md, idle CPU).
    /// </summary>
    private void ArmLocked()
    {
        bool wanted = _rules.Count > 0 || _active.Count > 0;
        if (wanted == _ticking) return;
        if (_timer?.Change(wanted ? TimeSpan.FromSeconds(1) : Timeout.InfiniteTimeSpan, wanted ? TimeSpan.FromSeconds(1) : Timeout.InfiniteTimeSpan) == true) _ticking = wanted;
    }

    /// <summary>
    /// The rules of one config file, from its latest `tend start`: they replace what the same file
    /// declared before (a file without alerts: removes its rules). Alerts of rules that are gone resolve.
    /// </summary>
    public void Apply(string source, AlertsSpec spec)
    {
        lock (_gate)
        {
            if (_sets.TryGetValue(source, out AlertsSpec? old) && old == spec) return;
            if (spec.IsEmpty && !_sets.ContainsKey(source)) return;
            if (spec.IsEmpty) _sets.Remove(source);
            else _sets[source] = spec;
            RebuildLocked();
            var kept = _rules.Select(r => (r.Source, r.Rule)).ToHashSet();
            foreach (ActiveAlert a in _active.Values.ToList())
            {
                if (a.Source == source && !kept.Contains((a.Source, a.Rule))) ResolveLocked(a, "its rule was changed or removed");
            }
            foreach (var key in _series.Keys.Where(k => !_rules.Any(r => r.Rule.Name == k.Rule)).ToList()) _series.Remove(key);
            SaveRulesLocked();
            AlertLog.RulesApplied(_logger, source, spec.Rules.Count, spec.Channels.Count);
        }
    }

    public AlertsReport Report()
    {
        lock (_gate)
        {
            return new AlertsReport(
                [.. _active.Values.OrderBy(a => a.Since).Select(a => a.Snapshot())],
                [.. _recent],
                _rules.Count,
                [.. _channels.Keys.Order(StringComparer.Ordinal)],
                _outbox.Report());
        }
    }

    /// <summary>Pending and firing alerts (for /metrics).</summary>
    public IReadOnlyList<AlertSnapshot> Active()
    {
        lock (_gate) return [.. _active.Values.Select(a => a.Snapshot())];
    }

    public IReadOnlyDictionary<string, int> OutboxPending() => _outbox.PendingByChannel();

    /// <summary>The collection rules of every started config (diagnostics:), for the collector that runs them.</summary>
    public IReadOnlyList<DiagnosticRuleSpec> DiagnosticRules()
    {
        lock (_gate) return [.. _sets.Values.SelectMany(s => s.Diagnostics)];
    }

    /// <summary>Whether a rule's match: covers <paramref name="app"/> (names, globs, supervisors).</summary>
    public bool MatchesApp(IEnumerable<string> match, string app)
    {
        lock (_gate) return Matches(new AlertRuleSpec { Name = "", Match = new EquatableArray<string>(match), Kind = AlertKind.Event }, app);
    }

    public OutboxReport Outbox() => _outbox.Report();

    private ChannelSpec? ChannelNamed(string name)
    {
        lock (_gate) return _channels.GetValueOrDefault(name);
    }

    private void RebuildLocked()
    {
        _rules = [.. _sets.SelectMany(s => s.Value.Rules.Select(r => (s.Key, r)))];
        _channels = new Dictionary<string, ChannelSpec>(StringComparer.Ordinal);
        foreach (AlertsSpec set in _sets.Values)
            foreach (ChannelSpec c in set.Channels) _channels[c.Name] = c;
        _supervisor.SampleEverySecond = _rules.Any(r => r.Rule.Kind != AlertKind.Event);
        ArmLocked();
        foreach (var (key, watch) in _logWatches.ToList())
        {
            if (_rules.Any(r => r.Rule.Name == key.Rule && r.Rule.Metric == "log")) continue;
            watch.Stop();
            _logWatches.Remove(key);
        }
    }

    // ---- events ----

    private async Task FollowEventsAsync(long after, CancellationToken ct)
    {
        try
        {
            await foreach (LifecycleEvent e in _supervisor.Events.SubscribeAsync(after, ct).ConfigureAwait(false))
            {
                if (e.Type.StartsWith("alert_", StringComparison.Ordinal)) continue;
                try { OnEvent(e); }
                catch (Exception ex) when (ex is not OperationCanceledException) { AlertLog.EvaluationFailed(_logger, e.Type, ex.Message); }
            }
        }
        catch (OperationCanceledException) { }
    }

    /// <summary>One lifecycle event: it may fire event alerts, start their recovery, or end alerts of an app that is gone.</summary>
    internal void OnEvent(LifecycleEvent e)
    {
        DateTimeOffset now = e.Time;
        lock (_gate)
        {
            if (e.Type is EventTypes.AppAdded or EventTypes.AppDeleted or EventTypes.AppReplaced) _subtrees = null;
            if (e.App is string app && e.Instance is int n && CountsAsRestart(e))
            {
                if (!_restarts.TryGetValue((app, n), out var times)) _restarts[(app, n)] = times = new Queue<DateTimeOffset>();
                times.Enqueue(now);
                while (times.Count > 0 && (times.Count > 10_000 || now - times.Peek() > TimeSpan.FromDays(1))) times.Dequeue();
            }

            foreach (string kind in AlertEventsOf(e))
            {
                string subject = kind == "supervisor_failed" && e.Data?.GetValueOrDefault("supervisor") is string sup ? sup : e.App ?? "";
                int? instance = kind == "supervisor_failed" ? null : e.Instance;
                foreach (var (source, rule) in _rules)
                {
                    if (rule.Kind != AlertKind.Event || !SameEvent(rule.On!, kind)) continue;
                    if (!(kind == "supervisor_failed" ? MatchesSupervisor(rule, subject) : Matches(rule, subject))) continue;
                    string fingerprint = AlertSnapshot.FingerprintOf(rule.Name, subject, instance);
                    if (_active.TryGetValue(fingerprint, out ActiveAlert? existing))
                    {
                        existing.Repeats++;
                        existing.RecoveringSince = null;
                        existing.Description = e.Message;
                        continue;
                    }
                    var alert = new ActiveAlert(source, rule, subject, instance, fingerprint, now)
                    {
                        Summary = rule.Summary ?? $"{(instance is int i ? $"{subject}#{i}" : subject)}: {kind.Replace('_', ' ')}",
                        Description = e.Message,
                    };
                    _active[fingerprint] = alert;
                    if (rule.For <= TimeSpan.Zero) FireLocked(alert, now);
                    else SaveActiveLocked();
                }
            }

            switch (e.Type)
            {
                case EventTypes.Online when e.Data?.GetValueOrDefault("ready") == "true":
                case EventTypes.Ready:
                case EventTypes.Adopted when e.Data?.GetValueOrDefault("ready") == "true":
                    if (e.App is string upApp && e.Instance is int upN) InstanceUpLocked(upApp, upN, now);
                    break;
                case EventTypes.ReloadDone:
                    ResolveWhereLocked(a => a.App == e.App && a.Rule.On == "reload_failed", "a reload of the app succeeded");
                    break;
                case EventTypes.DeployDone:
                    ResolveWhereLocked(a => a.App == e.App && a.Rule.On is "deploy_failed" or "deploy_rolled_back", "a deploy of the app succeeded");
                    break;
                case EventTypes.JobSucceeded:
                    ResolveWhereLocked(a => a.App == e.App && a.Rule.On is "job_failed" or "job_missed" or "job_skipped", "a later run of the job succeeded");
                    break;
                case EventTypes.AppDeleted:
                    ResolveWhereLocked(a => a.App == e.App, "the app was deleted");
                    foreach (var key in _series.Keys.Where(k => k.App == e.App).ToList()) _series.Remove(key);
                    foreach (var key in _restarts.Keys.Where(k => k.App == e.App).ToList()) _restarts.Remove(key);
                    foreach (var (key, watch) in _logWatches.Where(w => w.Key.App == e.App).ToList())
                    {
                        watch.Stop();
                        _logWatches.Remove(key);
                    }
                    ForgetSourcesWithoutAppsLocked();
                    break;
                case EventTypes.Stopped when e.Data?.GetValueOrDefault("reason") == "stopped by user":
                    ResolveWhereLocked(a => a.App == e.App && (a.Instance is null || a.Instance == e.Instance), "stopped by the user");
                    break;
            }
        }
    }

    /// <summary>Every restart, with backoff or in place (a health failure, max_memory), is one restart_scheduled event.</summary>
    /// <summary>
    /// Once every app a config file started is deleted, its rules go too (`tend delete all` leaves no
    /// rules behind); a file that still has an app keeps them.
    /// </summary>
    private void ForgetSourcesWithoutAppsLocked()
    {
        var live = _supervisor.Apps.Select(a => a.ConfigPath).Where(p => p is not null).ToHashSet(StringComparer.Ordinal);
        var gone = _sets.Keys.Where(source => !live.Contains(source)).ToList();
        if (gone.Count == 0) return;
        foreach (string source in gone)
        {
            _sets.Remove(source);
            ResolveWhereLocked(a => a.Source == source, "its config's apps were deleted");
        }
        RebuildLocked();
        SaveRulesLocked();
    }

    private static bool CountsAsRestart(LifecycleEvent e) => e.Type == EventTypes.RestartScheduled;

    /// <summary>What a lifecycle event means to alert rules (docs/alerts.md#events).</summary>
    internal IEnumerable<string> AlertEventsOf(LifecycleEvent e)
    {
        switch (e.Type)
        {
            case EventTypes.Exited:
                string? reason = e.Data?.GetValueOrDefault("reason");
                if (reason is "exited" || reason?.StartsWith("oom", StringComparison.Ordinal) == true)
                {
                    string? code = e.Data?.GetValueOrDefault("exit_code");
                    bool signal = e.Data?.ContainsKey("signal") == true;
                    AppSpec? spec = e.App is null ? null : _supervisor.Apps.FirstOrDefault(a => a.Name == e.App)?.Spec;
                    bool clean = !signal && (code == "0" || code is not null && spec is not null
                        && int.TryParse(code, CultureInfo.InvariantCulture, out int c) && spec.StopExitCodes.Contains(c));
                    if (!clean) yield return "crash";
                }
                break;
            case EventTypes.Errored: yield return "errored"; break;
            case EventTypes.Oom: yield return "oom"; break;
            case EventTypes.MemoryLimit: yield return "memory_limit"; break;
            case EventTypes.SpawnFailed: yield return "spawn_failed"; break;
            case EventTypes.Blocked: yield return "blocked"; break;
            case EventTypes.NotReady: yield return "not_ready"; break;
            case EventTypes.Held: yield return "held"; break;
            case EventTypes.BreakerOpen: yield return "breaker_open"; break;
            case EventTypes.HealthFailed:
                switch (e.Data?.GetValueOrDefault("kind"))
                {
                    case "liveness": yield return "liveness_failed"; break;
                    case "watchdog": yield return "watchdog"; break;
                    case "ready_timeout": yield return "not_ready"; break;
                }
                break;
            case EventTypes.ReloadFailed: yield return "reload_failed"; break;
            case EventTypes.DeployFailed: yield return "deploy_failed"; break;
            case EventTypes.SupervisorFailed: yield return "supervisor_failed"; break;
            case EventTypes.JobFailed: yield return "job_failed"; break;
            case EventTypes.JobMissed: yield return "job_missed"; break;
            case EventTypes.JobSkipped: yield return "job_skipped"; break;
        }
    }

    /// <summary>crash_loop is errored by its other name; a failed deploy is rolled back.</summary>
    private static bool SameEvent(string on, string kind) => on == kind
        || on == "crash_loop" && kind == "errored"
        || on == "deploy_rolled_back" && kind == "deploy_failed";

    private void InstanceUpLocked(string app, int n, DateTimeOffset now)
    {
        foreach (ActiveAlert a in _active.Values.ToList())
        {
            if (a.Rule.Kind != AlertKind.Event) continue;
            bool ours = a.App == app && (a.Instance is null || a.Instance == n)
                || a.Rule.On == "supervisor_failed" && AppsUnder(a.App).Contains(app);
            if (!ours) continue;
            if (a.Rule.On == "not_ready")
            {
                if (a.Instance == n || a.Instance is null) ResolveLocked(a, "ready again");
                continue;
            }
            if (a.Rule.On is "reload_failed" or "deploy_failed" or "deploy_rolled_back" or "job_failed" or "job_missed" or "job_skipped") continue;
            a.RecoveringSince ??= now;
        }
    }

    // ---- samples ----

    private void OnSampled(ResourcePass pass)
    {
        try { OnSamples(pass); }
        catch (Exception ex) { AlertLog.EvaluationFailed(_logger, "sample", ex.Message); }
    }

    /// <summary>One pass of the sampler: thresholds, anomalies and leaks on what it measured.</summary>
    internal void OnSamples(ResourcePass pass)
    {
        DateTimeOffset now = pass.Time;
        lock (_gate)
        {
            foreach (var (source, rule) in _rules)
            {
                if (rule.Kind == AlertKind.Event || rule.Metric is "restarts" or "log") continue;
                foreach (InstanceSample sample in pass.Samples)
                {
                    if (!Matches(rule, sample.App)) continue;
                    double? value = ValueOf(rule, sample);
                    if (value is not double v) continue;
                    var key = (rule.Name, sample.App, sample.Instance);
                    if (!_series.TryGetValue(key, out Series? series) || series.Pid != sample.Pid)
                    {
                        // A new run learns afresh: its warm-up is not the old run's steady state.
                        if (series is not null && rule.Kind is AlertKind.Anomaly or AlertKind.Leak)
                            ResolveWhereLocked(a => a.Rule == rule && a.App == sample.App && a.Instance == sample.Instance, "the instance was restarted");
                        _series[key] = series = new Series(sample.Pid, rule);
                    }
                    switch (rule.Kind)
                    {
                        case AlertKind.Threshold:
                            Level(source, rule, sample.App, sample.Instance, v, now);
                            break;
                        case AlertKind.Anomaly:
                            Anomaly(source, rule, sample.App, sample.Instance, series, v, now);
                            break;
                        case AlertKind.Leak:
                            Leak(source, rule, sample.App, sample.Instance, series, v, now);
                            break;
                    }
                }
            }
        }
    }

    private static double? ValueOf(AlertRuleSpec rule, InstanceSample s)
    {
        if (rule.Kind == AlertKind.Leak)
        {
            return rule.Metric switch
            {
                "rss" => s.MemoryBytes,
                "gc_heap" => s.Dotnet?.GcHeapBytes,
                _ => s.Dotnet?.GcHeapBytes ?? s.MemoryBytes,
            };
        }
        return rule.Metric switch
        {
            "cpu" => s.CpuPercent,
            "memory" => s.MemoryBytes,
            "dotnet.gc_heap" => s.Dotnet?.GcHeapBytes,
            "dotnet.working_set" => s.Dotnet?.WorkingSetBytes,
            "dotnet.threadpool_queue" => s.Dotnet?.ThreadPoolQueueLength,
            "dotnet.threadpool_threads" => s.Dotnet?.ThreadPoolThreads,
            "dotnet.time_in_gc" => s.Dotnet?.TimeInGcPercent,
            "dotnet.alloc_rate" => s.Dotnet?.AllocationRateBytesPerSecond,
            "probe_latency" => s.ProbeLatency?.TotalSeconds,
            _ => null,
        };
    }

    private void Level(string source, AlertRuleSpec rule, string app, int n, double value, DateTimeOffset now)
    {
        bool breached = rule.Above is double above && value > above || rule.Below is double below && value < below;
        string fingerprint = AlertSnapshot.FingerprintOf(rule.Name, app, n);
        _active.TryGetValue(fingerprint, out ActiveAlert? alert);
        if (!breached)
        {
            if (alert is not null) ResolveLocked(alert, $"{rule.Metric} back at {Format(rule.Metric!, value)}");
            return;
        }
        string level = rule.Above is double a ? $"> {Format(rule.Metric!, a)}" : $"< {Format(rule.Metric!, rule.Below!.Value)}";
        string description = $"{rule.Metric} {Format(rule.Metric!, value)} {level}" + (rule.For > TimeSpan.Zero ? $" for {Units.FormatDuration(rule.For)}" : "")
            + (rule.Metric is "restarts" or "log" ? $" (within {Units.FormatDuration(rule.Window)})" : "");
        if (alert is null)
        {
            alert = new ActiveAlert(source, rule, app, n, fingerprint, now)
            {
                Summary = rule.Summary ?? $"{app}#{n}: {rule.Metric} {level}",
                Description = description,
            };
            _active[fingerprint] = alert;
        }
        alert.Value = value;
        alert.Description = description;
        if (alert.State == AlertState.Pending && now - alert.Since >= rule.For) FireLocked(alert, now);
    }

    private void Anomaly(string source, AlertRuleSpec rule, string app, int n, Series series, double value, DateTimeOffset now)
    {
        Baseline baseline = series.Baseline!;
        string fingerprint = AlertSnapshot.FingerprintOf(rule.Name, app, n);
        _active.TryGetValue(fingerprint, out ActiveAlert? alert);
        if (baseline.Count < rule.MinSamples)
        {
            baseline.Add(value); // warm-up: learning, never judging
            return;
        }
        double minDelta = rule.MinDelta ?? DefaultMinDelta(rule.Metric!);
        double score = baseline.Score(value, rule.Direction, minDelta);
        if (alert is not null)
        {
            alert.Value = value;
            if (score < rule.ResolveK)
            {
                ResolveLocked(alert, $"{rule.Metric} back within its baseline ({score:0.#} spreads, below resolve_k {rule.ResolveK:0.#})");
                baseline.Add(value);
                return;
            }
            // Frozen while pending or firing: the anomaly must not become the baseline.
            var (median, spread) = baseline.Describe();
            alert.Description = Describe(rule, value, score, median, spread, baseline.Count);
            if (alert.State == AlertState.Pending && now - alert.Since >= rule.For) FireLocked(alert, now);
            return;
        }
        if (score >= rule.K)
        {
            var (median, spread) = baseline.Describe();
            alert = new ActiveAlert(source, rule, app, n, fingerprint, now)
            {
                Summary = rule.Summary ?? $"{app}#{n}: {rule.Metric} anomaly",
                Description = Describe(rule, value, score, median, spread, baseline.Count),
                Value = value,
            };
            _active[fingerprint] = alert;
            if (rule.For <= TimeSpan.Zero) FireLocked(alert, now);
            else SaveActiveLocked();
            return;
        }
        baseline.Add(value);

        static string Describe(AlertRuleSpec rule, double value, double score, double median, double spread, int count) =>
            $"{rule.Metric} {Format(rule.Metric!, value)} is {score:0.#} spreads from its baseline (median {Format(rule.Metric!, median)}, spread {Format(rule.Metric!, spread)}, {count} samples; fires at k={rule.K:0.#})";
    }

    /// <summary>The smallest change that counts for a series with no spread: 5 points of CPU, 8 MiB, else 1.</summary>
    internal static double DefaultMinDelta(string metric) => metric switch
    {
        "cpu" or "dotnet.time_in_gc" => 5,
        "memory" or "dotnet.gc_heap" or "dotnet.working_set" => 8 * 1024 * 1024,
        "dotnet.alloc_rate" => 1024 * 1024,
        _ => 1,
    };

    private void Leak(string source, AlertRuleSpec rule, string app, int n, Series series, double value, DateTimeOffset now)
    {
        Trend trend = series.Trend!;
        trend.Add(now, value);
        string fingerprint = AlertSnapshot.FingerprintOf(rule.Name, app, n);
        _active.TryGetValue(fingerprint, out ActiveAlert? alert);
        // Judged only over a (nearly) full window, and at most every few seconds: a fit costs ~1,800 slopes.
        if (trend.Covered < rule.Window * 0.9) return;
        if (series.LastFit is { } last && now - last < TimeSpan.FromSeconds(5) && alert is null) return;
        series.LastFit = now;
        if (trend.Fit() is not { } fit) return;
        bool leaking = fit.Slope >= rule.MinRate && fit.R2 >= rule.MinFit && fit.RecentSlope >= rule.MinRate / 2;
        if (alert is not null)
        {
            alert.Value = fit.Slope;
            if (fit.Slope < rule.MinRate / 2 || fit.R2 < rule.MinFit / 2)
            {
                ResolveLocked(alert, $"memory no longer grows steadily ({Rate(fit.Slope)}, R² {fit.R2:0.00})");
                return;
            }
            alert.Description = DescribeLeak(app, rule, fit, value);
            if (alert.State == AlertState.Pending && now - alert.Since >= rule.For) FireLocked(alert, now);
            return;
        }
        if (!leaking) return;
        alert = new ActiveAlert(source, rule, app, n, fingerprint, now)
        {
            Summary = rule.Summary ?? $"{app}#{n}: memory leak, {Rate(fit.Slope)}",
            Description = DescribeLeak(app, rule, fit, value),
            Value = fit.Slope,
        };
        _active[fingerprint] = alert;
        if (rule.For <= TimeSpan.Zero) FireLocked(alert, now);
        else SaveActiveLocked();
    }

    private string DescribeLeak(string app, AlertRuleSpec rule, TrendFit fit, double now)
    {
        AppSpec? spec = _supervisor.Apps.FirstOrDefault(a => a.Name == app)?.Spec;
        long? limit = spec?.MaxMemoryBytes ?? spec?.Isolation.Resources.MemoryMax;
        string limitName = spec?.MaxMemoryBytes is not null ? "max_memory" : "memory_max";
        string projection = limit is long l
            ? now >= l ? $"already at {limitName} {Units.FormatSize(l)}"
                : $"reaches {limitName} {Units.FormatSize(l)} in about {Units.FormatApproximate(TimeSpan.FromSeconds(Math.Min((l - now) / fit.Slope, TimeSpan.FromDays(10_000).TotalSeconds)))}"
            : "no memory limit set (max_memory or resources.memory_max)";
        string series = rule.Metric == "memory" ? "memory" : rule.Metric!;
        return $"{series} grows {Rate(fit.Slope)} over {Units.FormatDuration(rule.Window)} (fit R² {fit.R2:0.00}, recent half {Rate(fit.RecentSlope)}); at {Units.FormatSize((long)now)} now, {projection}";
    }

    // ---- time ----

    /// <summary>What only the passing of time changes; every second.</summary>
    internal void Tick()
    {
        DateTimeOffset now = _time.GetUtcNow();
        var toSend = new List<(AlertNotification, IReadOnlyList<string>)>();
        lock (_gate)
        {
            if (!_started) return;
            CountedSeriesLocked(now);
            foreach (ActiveAlert a in _active.Values.ToList())
            {
                if (a.State == AlertState.Pending && a.Rule.Kind == AlertKind.Event && now - a.Since >= a.Rule.For) FireLocked(a, now);
                if (a.RecoveringSince is DateTimeOffset up)
                {
                    TimeSpan quiet = a.Rule.ResolveAfter;
                    if (_supervisor.Apps.FirstOrDefault(x => x.Name == a.App)?.Spec.MinUptime is TimeSpan minUptime && minUptime > quiet) quiet = minUptime;
                    if (now - up >= quiet) ResolveLocked(a, $"running again since {up:HH:mm:ss} UTC");
                }
            }
            foreach (ActiveAlert a in _active.Values)
            {
                if (a.State != AlertState.Firing) continue;
                if (!a.Notified)
                {
                    a.InhibitedBy = InhibitorOf(a);
                    if (a.InhibitedBy is not null) continue;
                    toSend.Add(NotificationLocked(a, now, repeat: false));
                }
                else if (a.Rule.RepeatInterval is TimeSpan every && a.LastNotifiedAt is DateTimeOffset last && now - last >= every)
                {
                    toSend.Add(NotificationLocked(a, now, repeat: true));
                }
            }
            if (toSend.Count > 0) SaveActiveLocked();
        }
        foreach (var (n, channels) in toSend) Send(n, channels);
    }

    /// <summary>Restarts and matching log lines within each rule's window, for every instance of a matching app.</summary>
    private void CountedSeriesLocked(DateTimeOffset now)
    {
        foreach (var (source, rule) in _rules)
        {
            if (rule.Metric is not ("restarts" or "log") || rule.Kind == AlertKind.Event) continue;
            foreach (App app in _supervisor.Apps)
            {
                if (!Matches(rule, app.Name)) continue;
                foreach (Instance inst in app.Instances)
                {
                    int count;
                    if (rule.Metric == "log") count = EnsureLogWatch(rule, app.Name, inst.Number).CountWithin(rule.Window, now);
                    else if (_restarts.TryGetValue((app.Name, inst.Number), out Queue<DateTimeOffset>? times))
                        count = times.Count(t => now - t <= rule.Window);
                    else count = 0;
                    if (rule.Kind == AlertKind.Threshold) Level(source, rule, app.Name, inst.Number, count, now);
                    else
                    {
                        var key = (rule.Name, app.Name, inst.Number);
                        if (!_series.TryGetValue(key, out Series? series)) _series[key] = series = new Series(0, rule);
                        Anomaly(source, rule, app.Name, inst.Number, series, count, now);
                    }
                }
            }
        }
    }

    private LogWatch EnsureLogWatch(AlertRuleSpec rule, string app, int n)
    {
        var key = (rule.Name, app, n);
        if (!_logWatches.TryGetValue(key, out LogWatch? watch))
        {
            watch = new LogWatch(new Regex(rule.Pattern!, RegexOptions.None, TimeSpan.FromMilliseconds(100)), _time);
            watch.Start(_supervisor.LogFeeds, app, n, _stop.Token);
            _logWatches[key] = watch;
        }
        return watch;
    }

    // ---- state changes ----

    private void FireLocked(ActiveAlert a, DateTimeOffset now)
    {
        a.State = AlertState.Firing;
        a.FiredAt = now;
        AlertLog.Firing(_logger, a.Rule.Name, a.Label, a.Description);
        _supervisor.Events.Publish(EventTypes.AlertFiring, a.App, a.Instance, null, $"alert {a.Rule.Name} firing: {a.Summary}", new Dictionary<string, string>
        {
            ["rule"] = a.Rule.Name,
            ["fingerprint"] = a.Fingerprint,
            ["severity"] = a.Rule.Severity,
            ["description"] = a.Description,
        });
        SaveActiveLocked();
    }

    private void ResolveLocked(ActiveAlert a, string because)
    {
        if (!_active.Remove(a.Fingerprint)) return;
        ArmLocked();
        DateTimeOffset now = _time.GetUtcNow();
        bool wasFiring = a.State == AlertState.Firing;
        a.State = AlertState.Resolved;
        a.ResolvedAt = now;
        a.ResolvedBecause = because;
        a.RecoveringSince = null;
        if (wasFiring)
        {
            AlertLog.Resolved(_logger, a.Rule.Name, a.Label, because);
            _supervisor.Events.Publish(EventTypes.AlertResolved, a.App, a.Instance, null, $"alert {a.Rule.Name} resolved: {because}", new Dictionary<string, string>
            {
                ["rule"] = a.Rule.Name,
                ["fingerprint"] = a.Fingerprint,
                ["because"] = because,
            });
            // Only a receiver that heard of the firing hears of the resolve.
            if (a.Notified)
            {
                var (n, channels) = NotificationLocked(a, now, repeat: false);
                Send(n, channels);
            }
            _recent.AddFirst(a.Snapshot());
            while (_recent.Count > RecentKept) _recent.RemoveLast();
        }
        SaveActiveLocked();
    }

    private void ResolveWhereLocked(Func<ActiveAlert, bool> which, string because)
    {
        foreach (ActiveAlert a in _active.Values.Where(which).ToList()) ResolveLocked(a, because);
    }

    private (AlertNotification, IReadOnlyList<string>) NotificationLocked(ActiveAlert a, DateTimeOffset now, bool repeat)
    {
        a.Notified = true;
        a.LastNotifiedAt = now;
        a.Notifications++;
        string id = $"{now.UtcTicks:x}-{Interlocked.Increment(ref _notificationSeq):x}-{a.Fingerprint}";
        return (new AlertNotification(id, a.Snapshot(), now, repeat), [.. a.Rule.Notify.Where(_channels.ContainsKey)]);
    }

    private void Send(AlertNotification n, IReadOnlyList<string> channels)
    {
        if (channels.Count == 0) return;
        try { _outbox.Enqueue(n, channels); }
        catch (IOException e) { AlertLog.OutboxUnreadable(_logger, _dir, e.Message); }
    }

    private void OnUndeliverable(UndeliveredNotification lost) =>
        _supervisor.Events.Publish(EventTypes.AlertUndeliverable, lost.App, null, null,
            $"alert {lost.Rule} ({lost.Status}) could not be delivered to {lost.Channel} after {lost.Attempts} attempts: {lost.LastError}",
            new Dictionary<string, string> { ["rule"] = lost.Rule, ["channel"] = lost.Channel, ["fingerprint"] = lost.Fingerprint, ["error"] = lost.LastError });

    /// <summary>
    /// The firing alert that explains <paramref name="a"/>, if any: a down alert of the same app (for
    /// its probe alerts), of an app it depends on (for anything of it), or of a supervisor above it.
    /// </summary>
    private string? InhibitorOf(ActiveAlert a)
    {
        foreach (ActiveAlert s in _active.Values)
        {
            if (s == a || s.State != AlertState.Firing || s.Rule.Kind != AlertKind.Event || !s_downEvents.Contains(s.Rule.On!)) continue;
            if (s.Rule.On == "supervisor_failed")
            {
                if (AppsUnder(s.App).Contains(a.App)) return $"{s.Rule.Name} ({s.App})";
                continue;
            }
            if (s.App == a.App && (a.Rule.On is string on && s_symptomEvents.Contains(on) || a.Rule.Metric == "probe_latency"))
                return $"{s.Rule.Name} ({s.Label})";
            if (s.App != a.App && DependentsOf(s.App).Contains(a.App)) return $"{s.Rule.Name} ({s.Label})";
        }
        return null;
    }

    /// <summary>Apps that depend on <paramref name="app"/>, directly or through others, and the siblings its supervisor restarts with it.</summary>
    private HashSet<string> DependentsOf(string app)
    {
        var result = new HashSet<string>(StringComparer.Ordinal);
        var queue = new Queue<string>([app]);
        IReadOnlyList<App> apps = _supervisor.Apps;
        while (queue.Count > 0)
        {
            string current = queue.Dequeue();
            foreach (App other in apps)
            {
                if (other.Spec.DependsOn.Any(d => d.App == current) && result.Add(other.Name)) queue.Enqueue(other.Name);
            }
        }
        void Siblings(TreeNodeSnapshot node)
        {
            int at = -1;
            for (int i = 0; i < node.Children.Count; i++) if (node.Children[i].Kind == TreeNodeKind.App && node.Children[i].Name == app) at = i;
            if (at >= 0 && node.Strategy is SupervisorStrategy strategy && strategy != SupervisorStrategy.OneForOne)
            {
                for (int i = strategy == SupervisorStrategy.RestForOne ? at + 1 : 0; i < node.Children.Count; i++)
                    foreach (string name in Flatten(node.Children[i])) if (name != app) result.Add(name);
            }
            foreach (TreeNodeSnapshot child in node.Children) if (child.Kind == TreeNodeKind.Supervisor) Siblings(child);
        }
        Siblings(_supervisor.Tree());
        return result;
    }

    /// <summary>The apps under a supervisor (empty for a name that is none); cached until the apps or the tree change.</summary>
    private HashSet<string> AppsUnder(string supervisorName)
    {
        // Also rebuilt every few seconds: a tree's nodes are built after its apps are announced.
        if (_subtrees is null || _time.GetUtcNow() - _subtreesAt > TimeSpan.FromSeconds(5))
        {
            _subtreesAt = _time.GetUtcNow();
            _subtrees = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
            void Walk(TreeNodeSnapshot node)
            {
                if (node.Kind != TreeNodeKind.Supervisor) return;
                _subtrees[node.Name] = [.. Flatten(node)];
                foreach (TreeNodeSnapshot child in node.Children) Walk(child);
            }
            Walk(_supervisor.Tree());
        }
        return _subtrees.TryGetValue(supervisorName, out HashSet<string>? apps) ? apps : [];
    }

    private static IEnumerable<string> Flatten(TreeNodeSnapshot node) =>
        node.Kind == TreeNodeKind.App ? [node.Name] : node.Children.SelectMany(Flatten);

    private bool Matches(AlertRuleSpec rule, string app)
    {
        foreach (string m in rule.Match)
        {
            if (m == app) return true;
            if (AlertSectionReader.IsGlob(m) && FileSystemName.MatchesSimpleExpression(m, app, ignoreCase: false)) return true;
        }
        // A supervisor's name matches its whole subtree.
        return rule.Match.Any(m => !AlertSectionReader.IsGlob(m) && AppsUnder(m).Contains(app));
    }

    private bool MatchesSupervisor(AlertRuleSpec rule, string supervisorName) =>
        rule.Match.Any(m => m == supervisorName || AlertSectionReader.IsGlob(m) && FileSystemName.MatchesSimpleExpression(m, supervisorName, ignoreCase: false))
        || AppsUnder(supervisorName).Any(app => Matches(rule, app));

    // ---- persistence ----

    private void LoadLocked()
    {
        try
        {
            if (File.Exists(RulesPath) && JsonSerializer.Deserialize(File.ReadAllBytes(RulesPath), AlertJsonContext.Default.PersistedRules) is { } rules)
            {
                foreach (PersistedRuleSet set in rules.Sets)
                    _sets[set.Source] = new AlertsSpec(new EquatableArray<AlertRuleSpec>(set.Rules), new EquatableArray<ChannelSpec>(set.Channels))
                    {
                        Diagnostics = new EquatableArray<DiagnosticRuleSpec>(set.Diagnostics ?? []),
                    };
            }
        }
        catch (Exception e) when (e is JsonException or IOException) { AlertLog.OutboxUnreadable(_logger, RulesPath, e.Message); }
        var byRule = _sets.SelectMany(s => s.Value.Rules.Select(r => (s.Key, r))).ToDictionary(x => (x.Key, x.r.Name), x => x.r);
        try
        {
            if (File.Exists(ActivePath) && JsonSerializer.Deserialize(File.ReadAllBytes(ActivePath), AlertJsonContext.Default.PersistedAlerts) is { } saved)
            {
                foreach (PersistedAlert p in saved.Alerts)
                {
                    if (!byRule.TryGetValue((p.Alert.Source, p.Alert.Rule), out AlertRuleSpec? rule)) continue;
                    _active[p.Alert.Fingerprint] = ActiveAlert.From(p, rule);
                }
                foreach (AlertSnapshot r in saved.Recent) _recent.AddLast(r);
            }
        }
        catch (Exception e) when (e is JsonException or IOException) { AlertLog.OutboxUnreadable(_logger, ActivePath, e.Message); }
    }

    private void SaveRulesLocked()
    {
        var persisted = new PersistedRules([.. _sets.Select(s => new PersistedRuleSet(s.Key, [.. s.Value.Rules], [.. s.Value.Channels], [.. s.Value.Diagnostics]))]);
        WriteAtomically(RulesPath, JsonSerializer.SerializeToUtf8Bytes(persisted, AlertJsonContext.Default.PersistedRules));
    }

    private void SaveActiveLocked()
    {
        if (!_started) return;
        var persisted = new PersistedAlerts([.. _active.Values.Select(a => a.Persist())], [.. _recent.Take(RecentKept)]);
        WriteAtomically(ActivePath, JsonSerializer.SerializeToUtf8Bytes(persisted, AlertJsonContext.Default.PersistedAlerts));
    }

    private void WriteAtomically(string path, byte[] bytes)
    {
        try
        {
            Directory.CreateDirectory(_dir);
            string temp = path + ".tmp";
            File.WriteAllBytes(temp, bytes);
            if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(temp, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            File.Move(temp, path, overwrite: true);
        }
        catch (IOException e) { AlertLog.OutboxUnreadable(_logger, path, e.Message); }
    }

    internal static string Format(string metric, double value) => metric switch
    {
        "cpu" or "dotnet.time_in_gc" => value.ToString("0.#", CultureInfo.InvariantCulture) + "%",
        "memory" or "dotnet.gc_heap" or "dotnet.working_set" => Units.FormatSize((long)value),
        "dotnet.alloc_rate" => Units.FormatSize((long)value) + "/s",
        "probe_latency" => (value * 1000).ToString("0.#", CultureInfo.InvariantCulture) + "ms",
        _ => value.ToString("0.##", CultureInfo.InvariantCulture),
    };

    internal static string Rate(double bytesPerSecond) =>
        Math.Abs(bytesPerSecond) >= 1024 * 1024 / 60.0 ? Units.FormatSize((long)(bytesPerSecond)) + "/s"
        : Units.FormatSize((long)(bytesPerSecond * 3600)) + "/h";

    public async ValueTask DisposeAsync()
    {
        _supervisor.Sampled -= OnSampled;
        if (_timer is not null) await _timer.DisposeAsync().ConfigureAwait(false);
        await _stop.CancelAsync().ConfigureAwait(false);
        await _events.ConfigureAwait(false);
        lock (_gate)
        {
            foreach (LogWatch w in _logWatches.Values) w.Stop();
            _logWatches.Clear();
        }
        await _outbox.DisposeAsync().ConfigureAwait(false);
        _stop.Dispose();
    }

    /// <summary>What a rule remembers about one instance's series: its run, and the baseline or trend.</summary>
    private sealed class Series(int pid, AlertRuleSpec rule)
    {
        public int Pid { get; } = pid;
        public Baseline? Baseline { get; } = rule.Kind == AlertKind.Anomaly ? new Baseline(rule.Baseline) : null;
        public Trend? Trend { get; } = rule.Kind == AlertKind.Leak ? new Trend(rule.Window) : null;
        public DateTimeOffset? LastFit { get; set; }
    }
}
