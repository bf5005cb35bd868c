using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Tend.Config;
using Tend.Events;
using Tend.Runtime;
using Tend.Supervision;

namespace Tend.Diag;

/// <summary>What `tend diag` collects (docs/alerts.md#diagnostics).</summary>
public enum DiagKind
{
    /// <summary>A .NET process's dump, written by its runtime (createdump).</summary>
    Dump,
    /// <summary>A .NET heap snapshot: the runtime's GC heap-dump events, as a nettrace.</summary>
    GcDump,
    /// <summary>A .NET EventPipe trace: CPU samples and runtime events, as a nettrace.</summary>
    Trace,
    /// <summary>A core file of any process, by gdb's gcore (the process keeps running).</summary>
    Core,
    /// <summary>A Node app's V8 heap snapshot (node_diagnostics: true).</summary>
    HeapSnapshot,
}

/// <summary>One collected artifact and where it is; <c>diag/ID.json</c> beside it keeps this.</summary>
public sealed record DiagArtifact(
    string Id, string App, int Instance, int Pid, string Kind, string Path, long Bytes,
    DateTimeOffset StartedAt, DateTimeOffset FinishedAt, string Trigger);

/// <summary>A collection that cannot be made, and why, in words for the user.</summary>
public sealed class DiagException(string message) : Exception(message);

/// <summary>
/// Collects diagnostics from instances on demand (`tend diag`) and by rule (diagnostics: in
/// tend.yaml: when an alert fires, or before a max_memory restart). Artifacts land in
/// <c>$TEND_HOME/diag/</c> with a JSON record each; one collection per instance at a time; a disk
/// quota over the folder; a rule's count per window is kept in <c>diag/limits.json</c>, so a daemon
/// restart does not reset it and a flapping app cannot fill the disk.
/// </summary>
public sealed class DiagCollector : IAsyncDisposable
{
    public const long DefaultQuotaBytes = 4L * 1024 * 1024 * 1024;
    private static readonly TimeSpan s_memoryRestartBudget = TimeSpan.FromMinutes(2);

    private readonly Supervisor _supervisor;
    private readonly Alerts.AlertEngine _alerts;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<int, string> _busy = new();
    private readonly Lock _limitsGate = new();
    private readonly CancellationTokenSource _stop = new();
    private Dictionary<string, List<DateTimeOffset>> _limits = new(StringComparer.Ordinal);
    private Task _events = Task.CompletedTask;

    public DiagCollector(Supervisor supervisor, Alerts.AlertEngine alerts, string home, TimeProvider time, ILoggerFactory loggers, long quotaBytes = DefaultQuotaBytes)
    {
        _supervisor = supervisor;
        _alerts = alerts;
        _time = time;
        _logger = loggers.CreateLogger("tend.diag");
        Dir = Path.Combine(home, "diag");
        QuotaBytes = quotaBytes;
    }

    public string Dir { get; }
    public long QuotaBytes { get; }
    private string LimitsPath => Path.Combine(Dir, "limits.json");

    /// <summary>Follow alert events for the collection rules, and take the max_memory hook.</summary>
    public void Start()
    {
        Directory.CreateDirectory(Dir);
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(Dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        LoadLimits();
        long after = _supervisor.Events.LastSequence;
        _events = Task.Run(() => FollowAsync(after, _stop.Token));
        _supervisor.BeforeMemoryRestart = BeforeMemoryRestartAsync;
    }

    /// <summary>Every artifact on disk, oldest first.</summary>
    public IReadOnlyList<DiagArtifact> List()
    {
        if (!Directory.Exists(Dir)) return [];
        var result = new List<DiagArtifact>();
        foreach (string file in Directory.EnumerateFiles(Dir, "*.json"))
        {
            if (Path.GetFileName(file) == "limits.json") continue;
            try
            {
                if (JsonSerializer.Deserialize(File.ReadAllBytes(file), DiagJsonContext.Default.DiagArtifact) is { } a) result.Add(a);
            }
            catch (Exception e) when (e is JsonException or IOException) { DiagLog.Unreadable(_logger, file, e.Message); }
        }
        return [.. result.OrderBy(a => a.StartedAt)];
    }

    /// <summary>Bytes the artifacts take.</summary>
    public long UsedBytes() => Directory.Exists(Dir)
        ? new DirectoryInfo(Dir).EnumerateFiles("*", SearchOption.AllDirectories).Sum(f => f.Length)
        : 0;

    /// <summary>Delete an artifact and its record; false when there is no such id.</summary>
    public bool Delete(string id)
    {
        DiagArtifact? found = List().FirstOrDefault(a => a.Id == id);
        if (found is null) return false;
        File.Delete(found.Path);
        File.Delete(Path.Combine(Dir, id + ".json"));
        return true;
    }

    /// <summary>
    /// Collect <paramref name="kind"/> from the one instance <paramref name="target"/> names.
    /// <paramref name="trigger"/> says why (manual, or the rule): it is recorded with the artifact.
    /// </summary>
    /// <exception cref="DiagException">Not one running instance, not the right kind of program, busy, over quota, or the collection failed.</exception>
    /// <exception cref="TargetNotFoundException">No such app or instance.</exception>
    public async Task<DiagArtifact> CollectAsync(string target, DiagKind kind, TimeSpan duration, DotnetDumpType dumpType, string trigger, CancellationToken ct)
    {
        IReadOnlyList<Instance> instances = _supervisor.Resolve(target);
        var live = instances.Where(i => i.LiveProcess is not null).ToList();
        if (live.Count == 0) throw new DiagException($"{target} has no running instance to collect from");
        if (live.Count > 1) throw new DiagException($"{target} has {live.Count} running instances; name one: {string.Join(", ", live.Select(i => $"{i.Name}#{i.Number}"))}");
        return await CollectAsync(live[0], kind, duration, dumpType, trigger, ct).ConfigureAwait(false);
    }

    private async Task<DiagArtifact> CollectAsync(Instance instance, DiagKind kind, TimeSpan duration, DotnetDumpType dumpType, string trigger, CancellationToken ct)
    {
        if (instance.LiveProcess is not { } process) throw new DiagException($"{instance.Name}#{instance.Number} is not running");
        long used = UsedBytes();
        if (used >= QuotaBytes)
            throw new DiagException($"the diag folder holds {Units.FormatSize(used)}, at its quota of {Units.FormatSize(QuotaBytes)}: remove artifacts (tend diag rm ID) or raise TEND_DIAG_QUOTA");
        if (!_busy.TryAdd(instance.Id, kind.ToString()))
            throw new DiagException($"{instance.Name}#{instance.Number} is busy with a collection ({_busy.GetValueOrDefault(instance.Id)}); one at a time per instance");
        try
        {
            Directory.CreateDirectory(Dir);
            DateTimeOffset started = _time.GetUtcNow();
            string kindName = kind.ToString().ToLowerInvariant();
            string id = $"{instance.Name}-{instance.Number}-{kindName}-{started.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture)}";
            string path = Path.Combine(Dir, id + Extension(kind));
            DiagLog.Collecting(_logger, kindName, instance.Name, instance.Number, process.Pid, trigger);
            try
            {
                await CollectIntoAsync(instance, process.Pid, process.StartTime, kind, path, duration, dumpType, ct).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not DiagException and not OperationCanceledException)
            {
                TryDelete(path);
                throw new DiagException($"{kindName} of {instance.Name}#{instance.Number} (pid {process.Pid}) failed: {e.Message}");
            }
            catch
            {
                TryDelete(path);
                throw;
            }
            var artifact = new DiagArtifact(id, instance.Name, instance.Number, process.Pid, kindName, path, new FileInfo(path).Length, started, _time.GetUtcNow(), trigger);
            File.WriteAllBytes(Path.Combine(Dir, id + ".json"), JsonSerializer.SerializeToUtf8Bytes(artifact, DiagJsonContext.Default.DiagArtifact));
            _supervisor.Events.Publish(EventTypes.DiagCollected, instance.Name, instance.Number, process.Pid,
                $"{kindName} collected ({Units.FormatSize(artifact.Bytes)}, {trigger}): {path}",
                new Dictionary<string, string> { ["kind"] = kindName, ["path"] = path, ["bytes"] = artifact.Bytes.ToString(CultureInfo.InvariantCulture), ["trigger"] = trigger });
            return artifact;
        }
        finally
        {
            _busy.TryRemove(instance.Id, out _);
        }
    }

    private async Task CollectIntoAsync(Instance instance, int pid, ulong startTime, DiagKind kind, string path, TimeSpan duration, DotnetDumpType dumpType, CancellationToken ct)
    {
        switch (kind)
        {
            case DiagKind.Dump:
                await DotnetDiagnostics.WriteDumpAsync(DotnetSocket(instance, pid, startTime), path, dumpType, ct).ConfigureAwait(false);
                if (!File.Exists(path)) throw new DiagException($"the runtime of pid {pid} reported a dump but wrote none to {path} (can its user write to {Dir}?)");
                break;
            case DiagKind.Trace or DiagKind.GcDump:
            {
                string socket = DotnetSocket(instance, pid, startTime);
                await using FileStream output = new(path, FileMode.CreateNew, FileAccess.Write, FileShare.Read, 81920, useAsync: true);
                if (kind == DiagKind.Trace) await DotnetDiagnostics.TraceAsync(socket, output, duration, ct).ConfigureAwait(false);
                else await DotnetDiagnostics.HeapSnapshotAsync(socket, output, duration, ct).ConfigureAwait(false);
                break;
            }
            case DiagKind.Core:
                await GcoreAsync(pid, path, ct).ConfigureAwait(false);
                break;
            case DiagKind.HeapSnapshot:
                await NodeHeapSnapshotAsync(instance, pid, path, duration, ct).ConfigureAwait(false);
                break;
        }
    }

    private static string DotnetSocket(Instance instance, int pid, ulong startTime) =>
        DiagnosticSocket.Find(pid, startTime)
        ?? throw new DiagException($"{instance.Name}#{instance.Number} (pid {pid}) is not a .NET process with a diagnostic socket (dump, gcdump and trace are for .NET apps; core works for any process)");

    private async Task GcoreAsync(int pid, string path, CancellationToken ct)
    {
        if (Config.ExecutableLookup.Find("gcore", "/", Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin", out string? gcore) != Config.ExecutableLookup.Outcome.Found || gcore is null) throw new DiagException("core needs gdb's gcore on the daemon's PATH (apt-get install gdb); for a .NET app, dump works without it");
        // gcore -o PREFIX writes PREFIX.PID; the process is stopped only while its memory is copied.
        string prefix = path[..^".core".Length];
        var env = new Dictionary<string, string> { ["PATH"] = Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin" };
        await using var probe = new Health.ExecProbe([gcore, "-o", prefix, pid.ToString(CultureInfo.InvariantCulture)], new Health.ProbeContext(Dir, env) { Time = _time }, TimeSpan.FromMinutes(5));
        Health.ProbeResult result = await probe.CheckAsync(ct).ConfigureAwait(false);
        string written = $"{prefix}.{pid}";
        if (!result.Success || !File.Exists(written)) throw new DiagException($"gcore failed: {result.Detail}");
        File.Move(written, path);
    }

    private async Task NodeHeapSnapshotAsync(Instance instance, int pid, string path, TimeSpan timeout, CancellationToken ct)
    {
        if (!instance.Spec.NodeDiagnostics)
            throw new DiagException($"{instance.Name} has not opted in: add node_diagnostics: true to the app (Tend then starts Node with --heapsnapshot-signal) and restart it");
        string dir = InstanceEnvironment.NodeDiagnosticDir(_supervisor.Home, instance.Name, instance.Number);
        var before = Directory.Exists(dir) ? Directory.GetFiles(dir, "*.heapsnapshot").ToHashSet(StringComparer.Ordinal) : [];
        if (!instance.Signal(Processes.Signals.SIGUSR2)) throw new DiagException($"{instance.Name}#{instance.Number} is not running");
        // Node writes the snapshot synchronously and renames nothing: it is complete once its size stops changing.
        DateTimeOffset deadline = _time.GetUtcNow() + (timeout < TimeSpan.FromSeconds(30) ? TimeSpan.FromSeconds(60) : timeout);
        string? file = null;
        long lastSize = -1;
        while (_time.GetUtcNow() < deadline)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(250), _time, ct).ConfigureAwait(false);
            file ??= Directory.Exists(dir) ? Directory.GetFiles(dir, "*.heapsnapshot").FirstOrDefault(f => !before.Contains(f)) : null;
            if (file is null) continue;
            long size = new FileInfo(file).Length;
            if (size > 0 && size == lastSize)
            {
                File.Move(file, path);
                return;
            }
            lastSize = size;
        }
        throw new DiagException($"no heap snapshot from {instance.Name}#{instance.Number} (pid {pid}) after SIGUSR2: is it a Node program started by Tend since node_diagnostics was set?");
    }

    private static string Extension(DiagKind kind) => kind switch
    {
        DiagKind.Dump => ".dmp",
        DiagKind.GcDump => ".gcdump.nettrace",
        DiagKind.Trace => ".nettrace",
        DiagKind.Core => ".core",
        _ => ".heapsnapshot",
    };

    private static void TryDelete(string path)
    {
        try { File.Delete(path); }
        catch (IOException) { }
    }

    // ---- collection rules ----

    private async Task FollowAsync(long after, CancellationToken ct)
    {
        try
        {
            await foreach (LifecycleEvent e in _supervisor.Events.SubscribeAsync(after, ct).ConfigureAwait(false))
            {
                if (e.Type != EventTypes.AlertFiring || e.App is null || e.Data?.GetValueOrDefault("rule") is not string rule) continue;
                foreach (DiagnosticRuleSpec r in _alerts.DiagnosticRules())
                {
                    if (!r.When.Contains(rule) || r.Match.Count > 0 && !_alerts.MatchesApp(r.Match, e.App)) continue;
                    string target = e.Instance is int n ? $"{e.App}#{n}" : e.App;
                    _ = Task.Run(() => RunRuleAsync(r, target, $"rule {r.Name} (alert {rule})", ct), ct);
                }
            }
        }
        catch (OperationCanceledException) { }
    }

    /// <summary>The max_memory hook: collect what a memory_limit rule asks for, then let the restart go on.</summary>
    private async Task BeforeMemoryRestartAsync(Instance instance)
    {
        foreach (DiagnosticRuleSpec r in _alerts.DiagnosticRules())
        {
            if (!r.When.Contains("memory_limit") || r.Match.Count > 0 && !_alerts.MatchesApp(r.Match, instance.Name)) continue;
            using var budget = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
            budget.CancelAfter(s_memoryRestartBudget);
            await RunRuleAsync(r, $"{instance.Name}#{instance.Number}", $"rule {r.Name} (before a max_memory restart)", budget.Token).ConfigureAwait(false);
        }
    }

    private async Task RunRuleAsync(DiagnosticRuleSpec rule, string target, string trigger, CancellationToken ct)
    {
        DiagKind kind = Enum.Parse<DiagKind>(rule.Collect, ignoreCase: true);
        if (kind is DiagKind.Dump or DiagKind.GcDump or DiagKind.Core or DiagKind.HeapSnapshot
            && Processes.MemInfo.AvailableBytes() is long free && free < rule.MinFreeMemory)
        {
            Skipped(rule, target, $"free memory {Units.FormatSize(free)} is below min_free_memory {Units.FormatSize(rule.MinFreeMemory)}: a heap copy could push the machine into the OOM killer");
            return;
        }
        if (!TakeSlot(rule))
        {
            Skipped(rule, target, $"its limit of {rule.Count} per {Units.FormatDuration(rule.Per)} is used up");
            return;
        }
        try
        {
            await CollectAsync(target, kind, rule.Duration, DotnetDumpType.Heap, trigger, ct).ConfigureAwait(false);
        }
        catch (Exception e) when (e is DiagException or TargetNotFoundException or OperationCanceledException)
        {
            Skipped(rule, target, e.Message);
        }
    }

    /// <summary>Counts a collection against the rule's window, persisted; false when the window is full.</summary>
    private bool TakeSlot(DiagnosticRuleSpec rule)
    {
        DateTimeOffset now = _time.GetUtcNow();
        lock (_limitsGate)
        {
            if (!_limits.TryGetValue(rule.Name, out List<DateTimeOffset>? times)) _limits[rule.Name] = times = [];
            times.RemoveAll(t => now - t >= rule.Per);
            if (times.Count >= rule.Count) return false;
            times.Add(now);
            try
            {
                string temp = LimitsPath + ".tmp";
                File.WriteAllBytes(temp, JsonSerializer.SerializeToUtf8Bytes(_limits, DiagJsonContext.Default.DictionaryStringListDateTimeOffset));
                File.Move(temp, LimitsPath, overwrite: true);
            }
            catch (IOException e) { DiagLog.Unreadable(_logger, LimitsPath, e.Message); }
            return true;
        }
    }

    private void LoadLimits()
    {
        try
        {
            if (File.Exists(LimitsPath) && JsonSerializer.Deserialize(File.ReadAllBytes(LimitsPath), DiagJsonContext.Default.DictionaryStringListDateTimeOffset) is { } saved)
                _limits = new Dictionary<string, List<DateTimeOffset>>(saved, StringComparer.Ordinal);
        }
        catch (Exception e) when (e is JsonException or IOException) { DiagLog.Unreadable(_logger, LimitsPath, e.Message); }
    }

    private void Skipped(DiagnosticRuleSpec rule, string target, string why)
    {
        DiagLog.Skipped(_logger, rule.Name, target, why);
        string app = target.Split('#')[0];
        _supervisor.Events.Publish(EventTypes.DiagSkipped, app, null, null, $"diagnostics rule {rule.Name} did not collect {rule.Collect} from {target}: {why}",
            new Dictionary<string, string> { ["rule"] = rule.Name, ["kind"] = rule.Collect, ["why"] = why });
    }

    public async ValueTask DisposeAsync()
    {
        _supervisor.BeforeMemoryRestart = null;
        await _stop.CancelAsync().ConfigureAwait(false);
        await _events.ConfigureAwait(false);
        _stop.Dispose();
    }
}

[System.Text.Json.Serialization.JsonSourceGenerationOptions(PropertyNamingPolicy = System.Text.Json.Serialization.JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = true)]
[System.Text.Json.Serialization.JsonSerializable(typeof(DiagArtifact))]
[System.Text.Json.Serialization.JsonSerializable(typeof(Dictionary<string, List<DateTimeOffset>>))]
internal sealed partial class DiagJsonContext : System.Text.Json.Serialization.JsonSerializerContext;

internal static partial class DiagLog
{
    [LoggerMessage(7101, LogLevel.Information, "collecting {Kind} from {App}#{Instance} (pid {Pid}): {Trigger}")]
    public static partial void Collecting(ILogger logger, string kind, string app, int instance, int pid, string trigger);

    [LoggerMessage(7102, LogLevel.Warning, "diagnostics rule {Rule} skipped {Target}: {Why}")]
    public static partial void Skipped(ILogger logger, string rule, string target, string why);

    [LoggerMessage(7103, LogLevel.Warning, "diag: cannot use {Path}: {Error}")]
    public static partial void Unreadable(ILogger logger, string path, string error);
}
