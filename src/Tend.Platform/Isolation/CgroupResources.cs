namespace Tend.Isolation;

/// <summary>Limits applied to an instance's cgroup (systemd's MemoryMax=, MemoryHigh=, CPUQuota=, TasksMax=); null leaves one unlimited.</summary>
/// <param name="MemoryMax">Bytes; above it the kernel reclaims, then OOM-kills inside the cgroup.</param>
/// <param name="MemoryHigh">Bytes; above it the kernel throttles and reclaims hard (v2). On v1 the soft limit, which only matters under pressure.</param>
/// <param name="CpuMax">Cores: 0.5 is half of one core, 1.5 one and a half.</param>
/// <param name="PidsMax">Processes and threads together.</param>
public sealed record CgroupResources(long? MemoryMax, long? MemoryHigh, double? CpuMax, long? PidsMax)
{
    public static CgroupResources None { get; } = new(null, null, null, null);

    public bool IsEmpty => MemoryMax is null && MemoryHigh is null && CpuMax is null && PidsMax is null;

    /// <summary>The controllers these limits need.</summary>
    public IEnumerable<string> Controllers()
    {
        if (MemoryMax is not null || MemoryHigh is not null) yield return "memory";
        if (CpuMax is not null) yield return "cpu";
        if (PidsMax is not null) yield return "pids";
    }
}
