namespace Tend.Health;

/// <summary>One check as <see cref="ProbeHistory"/> keeps it.</summary>
/// <param name="At">When the check's result was recorded (wall clock, for display).</param>
/// <param name="Success">Whether the check passed.</param>
/// <param name="Latency">How long it took.</param>
/// <param name="Detail">The probe's text when the check failed or said something other than the check
/// before it; null for a success that repeats the previous text ("HTTP 200" thirty times says nothing).</param>
public readonly record struct ProbeCheckEntry(DateTimeOffset At, bool Success, TimeSpan Latency, string? Detail);

/// <summary>
/// The last <see cref="Capacity"/> checks of one probe, oldest first: a fixed array used as a ring, so
/// recording a check allocates nothing (the detail string is the probe's own, only referenced). Not
/// thread-safe: <see cref="ProbeRunner"/> holds its lock around every call.
/// </summary>
public sealed class ProbeHistory
{
    /// <summary>How many checks describe shows per probe: a glance at the recent past, not a log.</summary>
    public const int DefaultCapacity = 30;

    private readonly ProbeCheckEntry[] _ring;
    private int _next;   // where the next entry goes
    private int _count;
    private string? _previousDetail; // of the newest check, even when its entry holds null

    public ProbeHistory(int capacity = DefaultCapacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _ring = new ProbeCheckEntry[capacity];
    }

    public int Capacity => _ring.Length;

    public int Count => _count;

    public void Add(DateTimeOffset at, ProbeResult result)
    {
        string? detail = !result.Success || !string.Equals(result.Detail, _previousDetail, StringComparison.Ordinal) ? result.Detail : null;
        _previousDetail = result.Detail;
        _ring[_next] = new ProbeCheckEntry(at, result.Success, result.Latency, detail);
        _next = (_next + 1) % _ring.Length;
        if (_count < _ring.Length) _count++;
    }

    /// <summary>A copy of the kept checks, oldest first.</summary>
    public ProbeCheckEntry[] Snapshot()
    {
        var copy = new ProbeCheckEntry[_count];
        int start = (_next - _count + _ring.Length) % _ring.Length;
        for (int i = 0; i < _count; i++) copy[i] = _ring[(start + i) % _ring.Length];
        return copy;
    }
}
