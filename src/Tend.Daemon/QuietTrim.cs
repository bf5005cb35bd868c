using Microsoft.Extensions.Logging;
using Tend.Processes;

namespace Tend.Daemon;

/// <summary>
/// Gives memory back once the daemon has gone quiet (<see cref="WorkingSet.Trim"/>): after its
/// start, or after a burst of requests (a fleet started, the dashboard closed), it has touched code
/// and heap it will not use while nobody asks anything. <see cref="Quiet"/> after the last request
/// it trims once; the next request arms it again. The daemon's resident memory then is what its
/// steady work uses (the epoll loop, the sampler, the timers), not everything it ever ran
/// (docs/architecture.md, bench/notes.md). A request marks activity with one write; only the
/// timer, which fires at most once per quiet spell, looks at the clock.
/// </summary>
internal sealed partial class QuietTrim : IDisposable
{
    /// <summary>
    /// The resource sampler's watch window (30 s of a pass a second after anyone looked) and two
    /// seconds: the trim comes when the daemon has settled into its quiet regime, so the heap its
    /// last per-second passes grew is given back with the rest.
    /// </summary>
    public static readonly TimeSpan DefaultQuiet = TimeSpan.FromSeconds(32);

    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ITimer _timer;
    private readonly Lock _gate = new();
    private long _lastActivity;
    private bool _armed;
    private long _trims;

    public QuietTrim(TimeSpan quiet, TimeProvider time, ILogger logger)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(quiet, TimeSpan.Zero);
        Quiet = quiet;
        _time = time;
        _logger = logger;
        _timer = time.CreateTimer(_ => OnTimer(), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    public TimeSpan Quiet { get; }

    /// <summary>How many trims have run (the tests read it).</summary>
    public long Trims => Interlocked.Read(ref _trims);

    /// <summary>
    /// From the environment: TEND_TRIM_AFTER_S, the quiet seconds before a trim (default 32); 0
    /// turns trimming off (null). A value that is not a number of seconds keeps the default and
    /// says so in <paramref name="problem"/>.
    /// </summary>
    public static TimeSpan? QuietFromEnvironment(Func<string, string?> env, out string? problem)
    {
        problem = null;
        string? raw = env("TEND_TRIM_AFTER_S");
        if (string.IsNullOrWhiteSpace(raw)) return DefaultQuiet;
        if (!double.TryParse(raw, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double s)
            || !double.IsFinite(s) || s < 0 || s > TimeSpan.FromDays(1).TotalSeconds)
        {
            problem = $"TEND_TRIM_AFTER_S='{raw}' is not a number of seconds from 0 (off) to 86400; using {DefaultQuiet.TotalSeconds} s";
            return DefaultQuiet;
        }
        return s == 0 ? null : TimeSpan.FromSeconds(s);
    }

    /// <summary>Something happened (a request): the quiet spell starts again from now.</summary>
    public void Activity()
    {
        Volatile.Write(ref _lastActivity, _time.GetTimestamp());
        if (Volatile.Read(ref _armed)) return;
        lock (_gate)
        {
            if (_armed) return;
            _armed = true;
            _timer.Change(Quiet, Timeout.InfiniteTimeSpan);
        }
    }

    private void OnTimer()
    {
        lock (_gate)
        {
            TimeSpan since = _time.GetElapsedTime(Volatile.Read(ref _lastActivity));
            if (since < Quiet)
            {
                // Activity since the timer was set: wait for the rest of the quiet spell.
                _timer.Change(Quiet - since, Timeout.InfiniteTimeSpan);
                return;
            }
            _armed = false;
        }
        try
        {
            WorkingSetTrim t = WorkingSet.Trim();
            Interlocked.Increment(ref _trims);
            TrimLog.Trimmed(_logger, t.Before / (1024 * 1024.0), t.After / (1024 * 1024.0), t.FilePages);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            TrimLog.TrimFailed(_logger, e.Message);
        }
    }

    public void Dispose() => _timer.Dispose();

    private static partial class TrimLog
    {
        [LoggerMessage(2124, LogLevel.Debug, "quiet: working set trimmed, RSS {Before:F1} MB -> {After:F1} MB ({Pages} pages of read-only files let go)")]
        public static partial void Trimmed(ILogger logger, double before, double after, long pages);

        [LoggerMessage(2125, LogLevel.Warning, "quiet: working set not trimmed: {Error}")]
        public static partial void TrimFailed(ILogger logger, string error);
    }
}
