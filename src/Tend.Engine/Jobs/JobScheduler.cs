using Tend.Config;

namespace Tend.Jobs;

/// <summary>Something a job did that is worth an event: a run started or ended, or was skipped or missed.</summary>
public sealed record JobEvent(string App, JobRun Run);

/// <summary>
/// When a job runs (docs/jobs.md): at each occurrence of its cron expression in its zone (Cronos;
/// daylight saving handled there), plus up to jitter, unless the occurrence is older than
/// starting_deadline by the time it comes round. concurrency: decides what a run that comes while
/// one is going does. On start, occurrences passed while the daemon was down are caught up once
/// (catch_up: true) or recorded as missed. Each run is watched to its end (and stopped at timeout:)
/// and recorded in the job's <see cref="JobHistory"/>. Everything waits on the injected clock, so
/// the tests drive it with a FakeTimeProvider.
/// </summary>
internal sealed class JobScheduler : IAsyncDisposable
{
    private readonly string _app;
    private readonly JobSpec _spec;
    private readonly IJobTarget _target;
    private readonly JobHistory _history;
    private readonly TimeProvider _time;
    private readonly Action<JobEvent> _publish;
    private readonly Func<TimeSpan, TimeSpan> _jitter;
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _gate = new();
    private readonly List<ActiveRun> _active = [];
    private readonly List<Task<JobRun>> _watchers = [];
    private Task _loop = Task.CompletedTask;
    private DateTimeOffset? _next;

    /// <param name="jitter">Picks the delay for a run, given the job's jitter (random by default).</param>
    public JobScheduler(string app, JobSpec spec, IJobTarget target, JobHistory history, TimeProvider time, Action<JobEvent> publish,
        Func<TimeSpan, TimeSpan>? jitter = null)
    {
        _app = app;
        _spec = spec;
        _target = target;
        _history = history;
        _time = time;
        _publish = publish;
        _jitter = jitter ?? (max => max <= TimeSpan.Zero ? TimeSpan.Zero : TimeSpan.FromTicks(Random.Shared.NextInt64(max.Ticks + 1)));
    }

    /// <summary>The next occurrence it waits for; null before it started or when the expression has none left.</summary>
    public DateTimeOffset? NextRun { get { lock (_gate) return _next; } }

    public JobSnapshot Snapshot() => new(_app, _spec, NextRun, _target.IsRunning, _history.Runs);

    public void Start() => _loop = Task.Run(() => LoopAsync(_stop.Token));

    /// <summary>`tend run-job`: a run now, outside the schedule (concurrency: applies as for a scheduled one).
    /// Returns the run as recorded when it started (or was skipped); <paramref name="ended"/> completes with it as it ended.</summary>
    public JobRun RunNow(out Task<JobRun> ended) => Begin("manual", null, out ended);

    private async Task LoopAsync(CancellationToken ct)
    {
        DateTimeOffset now = _time.GetUtcNow();
        CatchUp(now);
        DateTimeOffset from = now;
        RestartSchedule schedule = _spec.AsSchedule();
        while (!ct.IsCancellationRequested)
        {
            DateTimeOffset? next = Schedules.Next(schedule, from);
            lock (_gate) _next = next;
            if (next is not { } occurrence) return;
            TimeSpan delay = _jitter(_spec.Jitter);
            // Waits at most a day at a time: a far occurrence is recomputed, and Task.Delay's limit kept.
            while (true)
            {
                TimeSpan wait = occurrence + delay - _time.GetUtcNow();
                if (wait <= TimeSpan.Zero) break;
                try { await Task.Delay(wait > TimeSpan.FromDays(1) ? TimeSpan.FromDays(1) : wait, _time, ct).ConfigureAwait(false); }
                catch (OperationCanceledException) { return; }
            }
            from = occurrence;
            _history.SetLastOccurrence(occurrence);
            TimeSpan late = _time.GetUtcNow() - occurrence - delay;
            if (_spec.StartingDeadline is { } deadline && late > deadline)
            {
                Record("schedule", occurrence, JobOutcome.Missed, $"started {Units.FormatDuration(late)} late, past starting_deadline {Units.FormatDuration(deadline)}");
                continue;
            }
            Begin("schedule", occurrence, out _);
        }
    }

    /// <summary>The occurrences between the last one dealt with and now, which passed while the daemon was down.</summary>
    private void CatchUp(DateTimeOffset now)
    {
        if (_history.LastOccurrence is not { } last)
        {
            // A new job: nothing was missed; it starts counting from here.
            _history.SetLastOccurrence(now);
            return;
        }
        RestartSchedule schedule = _spec.AsSchedule();
        int missed = 0;
        DateTimeOffset? newest = null;
        for (DateTimeOffset? o = Schedules.Next(schedule, last); o is { } occurrence && occurrence <= now && missed < 100_000; o = Schedules.Next(schedule, occurrence))
        {
            missed++;
            newest = occurrence;
        }
        if (newest is not { } latest) return;
        _history.SetLastOccurrence(latest);
        string count = missed == 1 ? "1 run" : $"{missed} runs";
        bool inTime = _spec.StartingDeadline is not { } deadline || now - latest <= deadline;
        if (_spec.CatchUp && inTime)
        {
            Begin("catch_up", latest, out _);
            return;
        }
        string why = !_spec.CatchUp ? "catch_up is off" : $"the latest was {Units.FormatDuration(now - latest)} ago, past starting_deadline";
        Record("schedule", latest, JobOutcome.Missed, $"{count} missed while the daemon was down ({why})");
    }

    private JobRun Record(string trigger, DateTimeOffset? occurrence, JobOutcome outcome, string detail)
    {
        DateTimeOffset now = _time.GetUtcNow();
        JobRun run = _history.Add(id => new JobRun(id, trigger, occurrence, now, now, outcome, null, null, detail, null));
        _publish(new JobEvent(_app, run));
        return run;
    }

    private JobRun Begin(string trigger, DateTimeOffset? occurrence, out Task<JobRun> ended)
    {
        bool alongside = false;
        List<ActiveRun> replaced = [];
        lock (_gate)
        {
            if (_active.Count > 0 || _target.IsRunning)
            {
                switch (_spec.Concurrency)
                {
                    case JobConcurrency.Forbid:
                        string since = _active.Count > 0 ? $" (run {_active[0].Run.Id}, started {_active[0].Run.StartedAt:u})" : "";
                        JobRun skipped = Record(trigger, occurrence, JobOutcome.Skipped, $"the previous run is still going{since}; concurrency: forbid");
                        ended = Task.FromResult(skipped);
                        return skipped;
                    case JobConcurrency.Replace:
                        replaced.AddRange(_active);
                        foreach (ActiveRun a in _active) a.Replaced = true;
                        break;
                    case JobConcurrency.Allow:
                        alongside = true;
                        break;
                }
            }
        }
        DateTimeOffset started = _time.GetUtcNow();
        JobRun run = _history.Add(id => new JobRun(id, trigger, occurrence, started, null, JobOutcome.Running, null, null, null, null));
        var active = new ActiveRun(run);
        lock (_gate) _active.Add(active);
        _publish(new JobEvent(_app, run));
        ended = Task.Run(() => WatchAsync(active, replaced, alongside));
        lock (_gate)
        {
            _watchers.RemoveAll(w => w.IsCompleted);
            _watchers.Add(ended);
        }
        return run;
    }

    private async Task<JobRun> WatchAsync(ActiveRun active, List<ActiveRun> replaced, bool alongside)
    {
        JobRun run = active.Run;
        JobProcessEnd end;
        bool timedOut = false;
        try
        {
            if (replaced.Count > 0) await _target.StopAsync().ConfigureAwait(false);
            Task<JobProcessEnd> process = _target.RunAsync(alongside);
            if (_spec.Timeout is { } timeout)
            {
                Task first = await Task.WhenAny(process, Task.Delay(timeout, _time, _stop.Token)).ConfigureAwait(false);
                if (first != process && !_stop.IsCancellationRequested)
                {
                    timedOut = true;
                    await _target.StopAsync().ConfigureAwait(false);
                }
            }
            end = await process.ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            end = new JobProcessEnd(false, null, null, "could not run: " + e.Message, []);
        }
        finally
        {
            lock (_gate) _active.Remove(active);
        }
        JobOutcome outcome = _stop.IsCancellationRequested ? JobOutcome.Interrupted
            : timedOut ? JobOutcome.TimedOut
            : active.Replaced ? JobOutcome.Replaced
            : end.Success ? JobOutcome.Succeeded : JobOutcome.Failed;
        string detail = outcome switch
        {
            JobOutcome.TimedOut => $"still running after timeout {Units.FormatDuration(_spec.Timeout!.Value)}: stopped",
            JobOutcome.Replaced => "stopped for the next run (concurrency: replace)",
            JobOutcome.Interrupted => "the job was removed or the daemon stopped while it ran: " + end.Reason,
            _ => end.Reason,
        };
        JobRun done = run with
        {
            EndedAt = _time.GetUtcNow(), Outcome = outcome, ExitCode = end.ExitCode, Signal = end.Signal, Detail = detail,
            Log = end.Log.Count > 0 ? end.Log : null,
        };
        _history.Update(done);
        _publish(new JobEvent(_app, done));
        return done;
    }

    /// <summary>Stops scheduling, then waits for the runs still going to end and be recorded. It does not
    /// stop them: their processes belong to the app, whose stop (on delete) ends them.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(false);
        Task<JobRun>[] watchers;
        lock (_gate) watchers = [.. _watchers];
        await Task.WhenAll(watchers).ConfigureAwait(false);
        _stop.Dispose();
    }

    private sealed class ActiveRun(JobRun run)
    {
        public JobRun Run { get; } = run;
        public bool Replaced { get; set; }
    }
}
