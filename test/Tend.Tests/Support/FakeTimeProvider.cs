namespace Tend.Tests.Support;

/// <summary>
/// A clock tests move by hand (the Microsoft testing package is not on our registry). Timers fire
/// when <see cref="Advance"/> passes their due time, so a backoff of 10 minutes takes no time.
/// </summary>
public sealed class FakeTimeProvider : TimeProvider
{
    private readonly Lock _gate = new();
    private readonly List<FakeTimer> _timers = [];
    private DateTimeOffset _now = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private long _ticks;

    public override DateTimeOffset GetUtcNow() { lock (_gate) return _now; }
    public override long GetTimestamp() { lock (_gate) return _ticks; }
    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public void Advance(TimeSpan by)
    {
        List<FakeTimer> due;
        lock (_gate)
        {
            _now += by;
            _ticks += by.Ticks;
            due = [.. _timers.Where(t => t.DueAt <= _ticks)];
        }
        foreach (var timer in due) timer.Fire();
    }

    /// <summary>Timers waiting to fire (what tests check to know a delay has begun).</summary>
    public int PendingTimers { get { lock (_gate) return _timers.Count; } }

    /// <summary>How far the clock must move for the earliest pending timer to fire; null when none is
    /// pending. Lets a test see which delay a loop chose without advancing past it.</summary>
    public TimeSpan? NextDue
    {
        get
        {
            lock (_gate)
            {
                return _timers.Count == 0 ? null : TimeSpan.FromTicks(_timers.Min(t => t.DueAt) - _ticks);
            }
        }
    }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = new FakeTimer(this, callback, state);
        timer.Change(dueTime, period);
        return timer;
    }

    private sealed class FakeTimer(FakeTimeProvider owner, TimerCallback callback, object? state) : ITimer
    {
        private TimeSpan _period;
        public long DueAt { get; private set; }

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            lock (owner._gate)
            {
                owner._timers.Remove(this);
                _period = period;
                if (dueTime == Timeout.InfiniteTimeSpan) return true;
                DueAt = owner._ticks + dueTime.Ticks;
                owner._timers.Add(this);
            }
            return true;
        }

        public void Fire()
        {
            lock (owner._gate)
            {
                owner._timers.Remove(this);
                if (_period > TimeSpan.Zero && _period != Timeout.InfiniteTimeSpan)
                {
                    DueAt = owner._ticks + _period.Ticks;
                    owner._timers.Add(this);
                }
            }
            callback(state);
        }

        public void Dispose() { lock (owner._gate) owner._timers.Remove(this); }
        public ValueTask DisposeAsync() { Dispose(); return ValueTask.CompletedTask; }
    }
}
