using System.Text.RegularExpressions;

namespace Tend.Health;

/// <summary>
/// Matches a pattern against the instance's output lines, which its log writers push in through
/// <see cref="OnLine"/>. Sticky (readiness): passes from the first matching line of this run on.
/// Not sticky (liveness): a check passes only if a matching line arrived since the previous check, so
/// an app that stops printing its heartbeat fails.
/// </summary>
public sealed class LogProbe : IProbe
{
    /// <summary>Lines are untrusted input and patterns are user-written: a catastrophic backtrack on one
    /// line must not stall the log pump that calls <see cref="OnLine"/>.</summary>
    private static readonly TimeSpan s_matchTimeout = TimeSpan.FromMilliseconds(100);

    private readonly Regex _pattern;
    private readonly bool _sticky;
    private readonly Lock _gate = new();
    private string? _matched;
    private bool _matchedSinceCheck;

    /// <exception cref="ArgumentException"><paramref name="pattern"/> is not a valid .NET regular expression.</exception>
    public LogProbe(string pattern, bool sticky)
    {
        _pattern = new Regex(pattern, RegexOptions.CultureInvariant, s_matchTimeout);
        _sticky = sticky;
    }

    public bool Sticky => _sticky;

    /// <summary>Offers one output line (without its newline). Safe from any thread.</summary>
    public void OnLine(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        // Once sticky has matched, nothing can change its verdict: skip the regex.
        if (_sticky && Volatile.Read(ref _matched) is not null) return;
        bool isMatch;
        try
        {
            isMatch = _pattern.IsMatch(text);
        }
        catch (RegexMatchTimeoutException)
        {
            return;
        }
        if (!isMatch) return;
        lock (_gate)
        {
            if (_sticky && _matched is not null) return;
            Volatile.Write(ref _matched, text);
            _matchedSinceCheck = true;
        }
    }

    public Task<ProbeResult> CheckAsync(CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        string? matched;
        bool everMatched;
        lock (_gate)
        {
            matched = _sticky || _matchedSinceCheck ? _matched : null;
            everMatched = _matched is not null;
            _matchedSinceCheck = false;
        }
        return Task.FromResult(matched is null
            ? new ProbeResult(false, TimeSpan.Zero, everMatched ? "no match since the last check" : "no match yet")
            : new ProbeResult(true, TimeSpan.Zero, "matched: " + ProbeText.Line(matched)));
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    public override string ToString() => $"log {_pattern}";
}
