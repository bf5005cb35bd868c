namespace Tend.Processes;

/// <summary>How a process ended: an exit code, or the signal that killed it. Both are null when the
/// status is unknown (an adopted process that is not our child, or one reaped by someone else).</summary>
public readonly record struct ExitStatus(int? Code, int? Signal)
{
    /// <summary>The kernel wrote a core dump when the signal killed the process.</summary>
    public bool CoreDumped { get; init; }

    public bool IsSuccess => Code == 0;

    public bool IsKnown => Code is not null || Signal is not null;

    public override string ToString() =>
        Code is { } code ? $"exit code {code}"
        : Signal is { } signal ? $"killed by {Signals.Name(signal)}{(CoreDumped ? " (core dumped)" : "")}"
        : "exited (status unknown)";
}
