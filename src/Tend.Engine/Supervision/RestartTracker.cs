using Tend.Config;
using Tend.Processes;

namespace Tend.Supervision;

/// <summary>What to do after an instance exited on its own.</summary>
public abstract record RestartDecision
{
    private RestartDecision() { }

    /// <summary>Restart after Delay (zero: at once).</summary>
    public sealed record Restart(TimeSpan Delay) : RestartDecision;

    /// <summary>The restart policy says no: the instance stays stopped.</summary>
    public sealed record Stay(string Reason) : RestartDecision;

    /// <summary>A crash loop: too many unstable runs in a row; the instance is errored.</summary>
    public sealed record GiveUp(string Reason) : RestartDecision;

    /// <summary>The breaker opened: no restart for Duration, then one half-open attempt.</summary>
    public sealed record Break(TimeSpan Duration, int Opens, string Reason) : RestartDecision;
}

/// <summary>Why Tend itself ended a run: a failed health check. <see cref="FailedStart"/> when it never became ready.</summary>
public sealed record RunFailure(string Reason, bool FailedStart);

/// <summary>
/// The crash-loop guard and backoff of one instance. Pure: it sees uptimes, never clocks, so
/// tests drive it directly.
///
/// A run shorter than min_uptime is unstable. Unstable runs are counted while they are consecutive;
/// one run that lasts min_uptime resets the count and the backoff. More than max_restarts unstable
/// runs in a row and we give up. PM2 instead counts unstable restarts in a window that automatic
/// restarts never renew, so a service that starts crash-looping after a day of good health loops
/// forever; counting consecutive unstable runs catches a loop whenever it begins.
/// </summary>
public sealed class RestartTracker
{
    private readonly Random _random;

    public RestartTracker(Random? random = null) => _random = random ?? Random.Shared;

    /// <summary>Unstable runs in a row, including the last one.</summary>
    public int UnstableRuns { get; private set; }

    public void Reset()
    {
        UnstableRuns = 0;
        _failures.Clear();
        Opens = 0;
        HalfOpen = false;
    }

    private readonly Queue<DateTimeOffset> _failures = new();

    /// <summary>How many times the breaker opened since it last closed.</summary>
    public int Opens { get; private set; }

    /// <summary>The run going on is the breaker's half-open attempt.</summary>
    public bool HalfOpen { get; set; }

    /// <summary>The half-open attempt stayed up: the breaker closes and forgets.</summary>
    public void CloseBreaker()
    {
        Opens = 0;
        HalfOpen = false;
        _failures.Clear();
    }

    /// <summary>True when the restart policy restarts after this exit.</summary>
    public static bool PolicyRestarts(AppSpec spec, ExitStatus exit) => spec.Restart switch
    {
        RestartPolicy.Always => true,
        RestartPolicy.Never => false,
        RestartPolicy.OnFailure => exit.Signal is not null
            || (exit.Code is int code && code != 0 && !spec.StopExitCodes.Contains(code)),
        _ => false,
    };

    /// <param name="failure">
    /// Set when Tend ended the run because a health check failed (ready_timeout, liveness, watchdog):
    /// the run is a failure whatever the process exited with once stopped (a clean exit 0 on
    /// SIGTERM included), as systemd and Kubernetes treat it; a failed start is also unstable.
    /// </param>
    /// <param name="at">When the run ended: the breaker counts failures within its window (required when the spec has one).</param>
    public RestartDecision OnExit(AppSpec spec, ExitStatus exit, TimeSpan uptime, RunFailure? failure = null, DateTimeOffset? at = null)
    {
        bool unstable = uptime < spec.MinUptime || failure?.FailedStart == true;
        UnstableRuns = unstable ? UnstableRuns + 1 : 0;
        string what = failure?.Reason ?? exit.ToString();

        if (failure is null && exit.Code is int code && spec.NoRetry.Contains(code))
            return new RestartDecision.Stay($"{what}; exit code {code} is in no_retry: not restarted");
        bool restarts = failure is null ? PolicyRestarts(spec, exit) : spec.Restart != RestartPolicy.Never;
        if (!restarts)
            return new RestartDecision.Stay($"{what}; restart: {Describe(spec.Restart)}");

        if (spec.Breaker is { } breaker && at is DateTimeOffset now)
        {
            bool failed = unstable || failure is not null || !exit.IsSuccess;
            if (failed) _failures.Enqueue(now);
            while (_failures.Count > 0 && now - _failures.Peek() > breaker.Window) _failures.Dequeue();
            bool reopen = HalfOpen && unstable;
            HalfOpen = false;
            if (reopen || _failures.Count >= breaker.MaxFailures)
            {
                Opens++;
                int failures = _failures.Count;
                _failures.Clear();
                UnstableRuns = 0;
                double ms = Math.Min(breaker.MaxBreak.TotalMilliseconds, breaker.Break.TotalMilliseconds * Math.Pow(2, Math.Min(Opens - 1, 30)));
                TimeSpan pause = TimeSpan.FromMilliseconds(ms);
                string why = reopen
                    ? $"the half-open attempt failed too ({what})"
                    : $"{failures} failures within {Config.Units.FormatDuration(breaker.Window)} (max_failures {breaker.MaxFailures}); last: {what}";
                return new RestartDecision.Break(pause, Opens, why);
            }
            return new RestartDecision.Restart(spec.RestartDelay + BackoffDelay(spec.Backoff, UnstableRuns));
        }

        if (UnstableRuns > spec.MaxRestarts)
        {
            return new RestartDecision.GiveUp(
                $"crash loop: {UnstableRuns} runs in a row shorter than min_uptime {Config.Units.FormatDuration(spec.MinUptime)} " +
                $"(max_restarts {spec.MaxRestarts}); last: {what}");
        }

        return new RestartDecision.Restart(spec.RestartDelay + BackoffDelay(spec.Backoff, UnstableRuns));
    }

    /// <summary>initial * multiplier^(n-1), capped at max, then ±jitter. Zero for n = 0 (a stable run).</summary>
    public TimeSpan BackoffDelay(BackoffSpec backoff, int unstableRuns)
    {
        if (unstableRuns <= 0 || backoff.Initial <= TimeSpan.Zero) return TimeSpan.Zero;
        double ms = backoff.Initial.TotalMilliseconds * Math.Pow(backoff.Multiplier, unstableRuns - 1);
        ms = Math.Min(ms, backoff.Max.TotalMilliseconds);
        if (backoff.Jitter > 0)
            ms *= 1 + backoff.Jitter * (2 * _random.NextDouble() - 1);
        return TimeSpan.FromMilliseconds(Math.Max(0, ms));
    }

    public static string Describe(RestartPolicy policy) => policy switch
    {
        RestartPolicy.Always => "always",
        RestartPolicy.OnFailure => "on-failure",
        _ => "never",
    };
}
