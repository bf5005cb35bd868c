namespace Tend.Processes;

/// <summary>Resource use summed over the live members of one process group.</summary>
/// <param name="RssBytes">Resident memory.</param>
/// <param name="CpuTicks">user + system time of the live members, in <see cref="ProcStat.ClockTicksPerSecond"/> units.
/// Not monotonic: when a member exits its time leaves the sum.</param>
/// <param name="Processes">Number of live (non-zombie) members.</param>
public readonly record struct GroupUsage(long RssBytes, long CpuTicks, int Processes);
