using System.Text;
using Tend.Jobs;
using Tend.Processes;

namespace Tend.Supervision;

/// <summary>
/// A job's runs as instances of its app: a run starts instance #0 (through the dependency gate, so
/// depends_on holds), and ends when its loop ends (restart: never). With concurrency: allow a run that
/// overlaps another gets an instance of its own, removed again once it ends. What the run wrote last
/// is read back from its log files for the history.
/// </summary>
internal sealed class AppJobTarget(App app, DependencyGate gate, Func<int> nextId) : IJobTarget
{
    private const int LogLinesKept = 10;
    private readonly Lock _gate = new();
    private readonly HashSet<Instance> _claimed = [];

    public bool IsRunning { get { lock (_gate) return _claimed.Count > 0 || app.Instances.Any(i => i.IsActive); } }

    /// <param name="alongside">Only documents the caller's intent: a run always takes an instance no other run holds.</param>
    public async Task<JobProcessEnd> RunAsync(bool alongside)
    {
        Instance? instance;
        bool temporary = false;
        lock (_gate)
        {
            // A run of its own: an instance no other run has claimed (two runs may start at once with allow).
            instance = app.Instances.FirstOrDefault(i => !i.IsActive && !_claimed.Contains(i));
            if (instance is null)
            {
                var used = app.Instances.Select(i => i.Number).ToHashSet();
                instance = app.NewInstance(nextId(), Enumerable.Range(0, int.MaxValue).First(n => !used.Contains(n)));
                app.AddInstance(instance);
                temporary = true;
            }
            _claimed.Add(instance);
        }
        try
        {
            return await RunOnAsync(instance, temporary).ConfigureAwait(false);
        }
        finally
        {
            lock (_gate) _claimed.Remove(instance);
        }
    }

    private async Task<JobProcessEnd> RunOnAsync(Instance instance, bool temporary)
    {
        long outFrom = Length(instance.OutLogPath), errFrom = Length(instance.ErrLogPath);
        Task<InstanceEnd> ended = instance.NextEndAsync();
        await gate.StartAsync(instance).ConfigureAwait(false);
        InstanceEnd end = await ended.ConfigureAwait(false);
        var log = new List<string>();
        log.AddRange(Tail(instance.OutLogPath, outFrom));
        log.AddRange(Tail(instance.ErrLogPath, errFrom).Select(l => "err: " + l));
        if (temporary) app.RemoveInstance(instance);
        string? signal = end.LastExit?.Signal is int s ? Signals.Name(s) : null;
        // The exit says it all for a job; the instance's own reason adds "restart: never", which every job has.
        string reason = end.Kind == InstanceEndKind.Finished && end.LastExit is { } exit ? exit.ToString() : end.Reason;
        return new JobProcessEnd(end.CleanExit, end.LastExit?.Code, signal, reason, log);
    }

    public Task StopAsync() => Task.WhenAll(app.Instances.Where(i => i.IsActive).Select(i => i.StopAsync()));

    private static long Length(string path)
    {
        try { return new FileInfo(path).Exists ? new FileInfo(path).Length : 0; }
        catch (IOException) { return 0; }
    }

    /// <summary>The last lines written to <paramref name="path"/> after <paramref name="from"/> (from the start if it was rotated meanwhile).</summary>
    private static IEnumerable<string> Tail(string path, long from)
    {
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            if (stream.Length < from) from = 0;
            long start = Math.Max(from, stream.Length - 8192);
            stream.Seek(start, SeekOrigin.Begin);
            using var reader = new StreamReader(stream, Encoding.UTF8);
            string text = reader.ReadToEnd();
            string[] lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            if (start > from && lines.Length > 0) lines = lines[1..]; // the first may be a partial line
            return lines.TakeLast(LogLinesKept).ToArray();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }
}
