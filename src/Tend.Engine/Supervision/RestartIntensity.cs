namespace Tend.Supervision;

/// <summary>
/// A supervisor's intensity: at most <c>max</c> restarts in any window of length <c>within</c>,
/// a sliding window on monotonic timestamps (OTP's intensity and period). Restarts spaced out
/// so that the window never holds more than max go on for ever; a burst gives up.
/// </summary>
internal sealed class RestartIntensity(int max, TimeSpan within, TimeProvider time)
{
    private readonly Queue<long> _recent = new();

    /// <summary>Restarts accepted in total (not only in the window).</summary>
    public int Total { get; private set; }

    /// <summary>Records a restart now; false when that makes more than max within the window (the supervisor gives up).</summary>
    public bool TryRecord()
    {
        long now = time.GetTimestamp();
        _recent.Enqueue(now);
        while (_recent.Count > 0 && time.GetElapsedTime(_recent.Peek(), now) > within) _recent.Dequeue();
        if (_recent.Count > max) return false;
        Total++;
        return true;
    }

    /// <summary>A supervisor restarted fresh starts with no history.</summary>
    public void Clear() => _recent.Clear();
}
