namespace Tend.Pool;

/// <summary>What happened to a worker.</summary>
public enum PoolWorkerEventKind
{
    /// <summary>Started and ready; serving (or on standby for a recycle or a swap).</summary>
    Started,
    /// <summary>Died or was killed as hung or timed out, not by the pool's wish: its running tasks failed.</summary>
    Lost,
    /// <summary>Retired by MaxTasks, MaxAge or MaxMemory after its replacement was ready.</summary>
    Recycled,
    /// <summary>Retired by a replacement, a swap or shutdown, after its tasks finished.</summary>
    Stopped,
}

/// <summary>One worker event. <paramref name="Reason"/> says why ("max_tasks", "exit code 1", "swap").</summary>
public sealed record PoolWorkerEvent(PoolWorkerEventKind Kind, string Pool, int WorkerId, int Pid, string Reason, DateTimeOffset At);

/// <summary>A worker as the pool sees it now.</summary>
/// <param name="WorkerId">Its number in the pool (never reused).</param>
/// <param name="Pid">Its process id.</param>
/// <param name="State">starting, standby, active, retiring, stopping or gone.</param>
/// <param name="Version">The label of the spec it runs.</param>
/// <param name="TasksDone">Tasks it finished.</param>
/// <param name="Age">Time since it started.</param>
/// <param name="RssBytes">Resident memory at the last heartbeat.</param>
/// <param name="BaselineRssBytes">Resident memory when its first task completed (MaxMemory counts from here).</param>
public sealed record PoolWorkerInfo(int WorkerId, int Pid, string State, string Version, long TasksDone, TimeSpan Age, long? RssBytes, long? BaselineRssBytes);
