using Microsoft.Extensions.Time.Testing;

namespace Tend.Tests.Support;

/// <summary>
/// Microsoft's <see cref="FakeTimeProvider"/> plus what some tests must see without moving the clock:
/// how many timers are waiting (<see cref="PendingTimers"/>: a loop has begun its delay) and how far
/// the earliest is (<see cref="NextDue"/>: which delay a loop chose). The clock and the firing are
/// the package's; this only watches the timers it hands out.
/// </summary>
public sealed class TimerWatchingClock : FakeTimeProvider
{
    private readonly Lock _gate = new();
    private readonly Dictionary<WatchedTimer, DateTimeOffset> _due = [];

    public TimerWatchingClock() : base(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero)) { }

    /// <summary>Timers waiting to fire.</summary>
    public int PendingTimers { get { lock (_gate) return _due.Count; } }

    /// <summary>How far the clock must move for the earliest pending timer to fire; null when none is pending.</summary>
    public TimeSpan? NextDue
    {
        get
        {
            lock (_gate) return _due.Count == 0 ? null : _due.Values.Min() - GetUtcNow();
        }
    }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var watched = new WatchedTimer(this);
        watched.Inner = base.CreateTimer(s => { watched.Fired(); callback(s); }, state, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        watched.Change(dueTime, period);
        return watched;
    }

    private void Schedule(WatchedTimer timer, TimeSpan? dueIn)
    {
        lock (_gate)
        {
            if (dueIn is { } d) _due[timer] = GetUtcNow() + d;
            else _due.Remove(timer);
        }
    }

    private sealed class WatchedTimer(TimerWatchingClock clock) : ITimer
    {
        private TimeSpan _period = Timeout.InfiniteTimeSpan;

        public ITimer Inner { get; set; } = null!;

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            _period = period;
            // Recorded before the package's timer is armed: a due time of zero may fire inside Change.
            clock.Schedule(this, dueTime == Timeout.InfiniteTimeSpan ? null : dueTime);
            return Inner.Change(dueTime, period);
        }

        public void Fired() =>
            clock.Schedule(this, _period > TimeSpan.Zero && _period != Timeout.InfiniteTimeSpan ? _period : null);

        public void Dispose()
        {
            clock.Schedule(this, null);
            Inner.Dispose();
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
