namespace Tend.Pool;

/// <summary>Everything a pool throws on its own account derives from this.</summary>
public class PoolException : Exception
{
    /// <summary>A pool failure with its message.</summary>
    public PoolException(string message, Exception? inner = null) : base(message, inner) { }
}

/// <summary>The queue held MaxQueue tasks already: nothing was sent.</summary>
public sealed class PoolQueueFullException(string pool, int maxQueue)
    : PoolException($"pool {pool}: the queue is full ({maxQueue} tasks waiting); the task was not accepted");

/// <summary>The pool is shutting down or shut down: the task was not run (or did not finish in time).</summary>
public sealed class PoolShutdownException(string message) : PoolException(message);

/// <summary>The task ran past TaskTimeout. Its worker is killed and replaced; other tasks are unaffected.</summary>
public sealed class PoolTaskTimeoutException(string pool, int workerId, int pid, TimeSpan timeout)
    : PoolException($"pool {pool}: the task ran past its timeout of {timeout.TotalSeconds:0.###} s on worker {workerId} (pid {pid}), which is killed and replaced")
{
    /// <summary>The worker's number in its pool.</summary>
    public int WorkerId { get; } = workerId;
    /// <summary>The worker's process id.</summary>
    public int Pid { get; } = pid;
}

/// <summary>The worker running the task died (or was killed as hung) before it answered. Only the
/// tasks that worker was running fail; the pool replaces it.</summary>
public sealed class WorkerLostException(string pool, int workerId, int pid, string reason)
    : PoolException($"pool {pool}: worker {workerId} (pid {pid}) was lost while running the task: {reason}")
{
    /// <summary>The worker's number in its pool.</summary>
    public int WorkerId { get; } = workerId;
    /// <summary>The worker's process id.</summary>
    public int Pid { get; } = pid;
    /// <summary>What happened to it: "killed by SIGKILL", "exit code 3", "hung: …".</summary>
    public string Reason { get; } = reason;
}

/// <summary>The worker's handler threw; the worker is fine and keeps serving.</summary>
public sealed class WorkerTaskException(string pool, int workerId, string remoteType, string remoteMessage)
    : PoolException($"pool {pool}: the task failed in worker {workerId}: {remoteType}: {remoteMessage}")
{
    /// <summary>The exception type the worker reported (its full name for a .NET worker).</summary>
    public string RemoteType { get; } = remoteType;
    /// <summary>The message the worker reported.</summary>
    public string RemoteMessage { get; } = remoteMessage;
}

/// <summary>The circuit breaker is open: too many tasks failed lately, so this one was not sent.</summary>
public sealed class PoolCircuitOpenException(string pool, Exception inner)
    : PoolException($"pool {pool}: the circuit breaker is open after too many failed tasks; the task was not sent", inner);

/// <summary>A worker could not be started or did not become ready.</summary>
public sealed class WorkerStartException(string pool, string detail, Exception? inner = null)
    : PoolException($"pool {pool}: a worker did not start: {detail}", inner);

/// <summary>A replacement or swap was abandoned; the message says what was left serving.</summary>
public sealed class PoolReplaceException(string message, Exception? inner = null) : PoolException(message, inner);
