using System.Text.Json;
using System.Text.Json.Serialization;

namespace Tend.Jobs;

/// <summary>
/// A job's runs, newest last, kept to the job's history: size in <c>$TEND_HOME/jobs/NAME.json</c>
/// (written whole, to a temporary file then renamed, at each change), so `tend jobs` shows them
/// after a daemon restart, and so does the last occurrence the scheduler saw, from which
/// catch_up: counts what was missed while the daemon was down.
/// </summary>
internal sealed class JobHistory
{
    private readonly Lock _gate = new();
    private readonly string _path;
    private readonly int _keep;
    private readonly List<JobRun> _runs;
    private int _nextId;

    private JobHistory(string path, int keep, JobHistoryFile file)
    {
        _path = path;
        _keep = keep;
        _runs = [.. file.Runs];
        _nextId = file.NextId;
        LastOccurrence = file.LastOccurrence;
    }

    /// <summary>The latest occurrence the scheduler has dealt with (run, skipped or missed).</summary>
    public DateTimeOffset? LastOccurrence { get; private set; }

    /// <summary>Reads the history of <paramref name="app"/>; an unreadable file starts an empty one (and is kept aside as .bad).</summary>
    public static JobHistory Load(string home, string app, int keep)
    {
        string dir = Path.Combine(home, "jobs");
        string path = Path.Combine(dir, app + ".json");
        JobHistoryFile file = new(1, null, []);
        try
        {
            if (File.Exists(path))
                file = JsonSerializer.Deserialize(File.ReadAllText(path), JobJsonContext.Default.JobHistoryFile) ?? file;
        }
        catch (JsonException)
        {
            File.Move(path, path + ".bad", overwrite: true);
        }
        var history = new JobHistory(path, keep, file);
        // A run the previous daemon did not see end.
        for (int i = 0; i < history._runs.Count; i++)
        {
            if (history._runs[i].Outcome == JobOutcome.Running)
                history._runs[i] = history._runs[i] with { Outcome = JobOutcome.Interrupted, Detail = "the daemon stopped while it ran" };
        }
        return history;
    }

    public IReadOnlyList<JobRun> Runs { get { lock (_gate) return [.. _runs]; } }

    public JobRun Add(Func<int, JobRun> make)
    {
        JobRun run;
        lock (_gate)
        {
            run = make(_nextId++);
            _runs.Add(run);
            while (_runs.Count > _keep) _runs.RemoveAt(0);
            SaveLocked();
        }
        return run;
    }

    public void Update(JobRun run)
    {
        lock (_gate)
        {
            int at = _runs.FindIndex(r => r.Id == run.Id);
            if (at >= 0) _runs[at] = run;
            SaveLocked();
        }
    }

    public void SetLastOccurrence(DateTimeOffset occurrence)
    {
        lock (_gate)
        {
            if (LastOccurrence is { } last && last >= occurrence) return;
            LastOccurrence = occurrence;
            SaveLocked();
        }
    }

    private void SaveLocked()
    {
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(_path)!);
            string temp = _path + ".tmp";
            File.WriteAllText(temp, JsonSerializer.Serialize(new JobHistoryFile(_nextId, LastOccurrence, [.. _runs]), JobJsonContext.Default.JobHistoryFile));
            File.Move(temp, _path, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A full disk costs the file, not the job: the runs go on and are kept in memory.
        }
    }
}

internal sealed record JobHistoryFile(int NextId, DateTimeOffset? LastOccurrence, List<JobRun> Runs);

[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(JobHistoryFile))]
internal sealed partial class JobJsonContext : JsonSerializerContext;
