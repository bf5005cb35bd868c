using System.Collections.Immutable;

namespace Tend.Cli.Monit;

/// <summary>
/// One instance's CPU (percent) and resident memory (bytes) as monit saw them, oldest first, at
/// most <see cref="MonitState.HistoryLength"/> samples. Kept client-side for the session only: the
/// daemon samples every second and does not keep a history, and monit polls it every second.
/// </summary>
internal sealed record InstanceHistory(ImmutableArray<double> Cpu, ImmutableArray<double> Memory)
{
    public static readonly InstanceHistory Empty = new([], []);

    public InstanceHistory Append(double cpu, double memory, int capacity) =>
        new(Push(Cpu, cpu, capacity), Push(Memory, memory, capacity));

    private static ImmutableArray<double> Push(ImmutableArray<double> samples, double value, int capacity)
    {
        ImmutableArray<double> added = samples.Add(value);
        return added.Length > capacity ? added.RemoveRange(0, added.Length - capacity) : added;
    }
}
