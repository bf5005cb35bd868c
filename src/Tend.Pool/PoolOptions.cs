using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace Tend.Pool;

/// <summary>How a <see cref="ProcessPool"/> runs its workers. Every figure is checked by
/// <see cref="ProcessPool.StartAsync"/>, which names the property it refuses.</summary>
public sealed record PoolOptions
{
    /// <summary>Names the pool in metrics (tag <c>tend.pool.name</c>), events and log lines.</summary>
    public string Name { get; init; } = "pool";

    /// <summary>How many workers serve tasks. Default: one per core.</summary>
    public int Workers { get; init; } = Environment.ProcessorCount;

    /// <summary>Tasks one worker runs at once.</summary>
    public int ConcurrencyPerWorker { get; init; } = 1;

    /// <summary>Tasks that may wait for a worker; one more is refused with <see cref="PoolQueueFullException"/>.</summary>
    public int MaxQueue { get; init; } = 1000;

    /// <summary>A task still running after this fails with <see cref="PoolTaskTimeoutException"/>, and its
    /// worker is killed and replaced (after its other tasks, with ConcurrencyPerWorker above 1).
    /// <see cref="Timeout.InfiniteTimeSpan"/>: no limit.</summary>
    public TimeSpan TaskTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>A worker must say it is ready (after its warm-up) within this, or it is killed.</summary>
    public TimeSpan StartTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How often each worker is pinged (and its age and memory are checked).</summary>
    public TimeSpan HeartbeatInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>A worker that leaves a ping unanswered this long is hung: it is killed and replaced.</summary>
    public TimeSpan HeartbeatTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Recycle a worker after this many tasks (it never runs more). Null: never.</summary>
    public int? MaxTasks { get; init; }

    /// <summary>Recycle a worker this long after it started. Null: never.</summary>
    public TimeSpan? MaxAge { get; init; }

    /// <summary>Recycle a worker whose resident memory grew this many bytes above its own baseline
    /// (measured when its first task completed, so start-up and warm-up do not count). Null: never.</summary>
    public long? MaxMemory { get; init; }

    /// <summary>Each worker's MaxTasks and MaxAge are raised by a random share up to this fraction, so
    /// workers started together do not retire together. 0 makes the limits exact.</summary>
    public double RecycleJitter { get; init; } = 0.1;

    /// <summary>The signal that asks a worker to stop (after a stop message on its channel); SIGKILL
    /// follows after <see cref="KillTimeout"/>. The same ladder Tend's daemon uses for apps.</summary>
    public int StopSignal { get; init; } = 15;

    /// <summary>How long a stopping worker has before SIGKILL.</summary>
    public TimeSpan KillTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>What <see cref="ProcessPool.DisposeAsync"/> gives queued and running tasks to finish.</summary>
    public TimeSpan ShutdownTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Stop sending tasks for a while when too many fail. Null: no breaker.</summary>
    public PoolCircuitBreaker? CircuitBreaker { get; init; }

    /// <summary>Where the workers' standard output and error go, a line per entry (category
    /// <c>Tend.Pool.Worker</c>), with pool events. Null: the app's own standard output and error,
    /// each line prefixed with the worker, which under Tend is the app's log.</summary>
    public ILoggerFactory? LoggerFactory { get; init; }

    /// <summary>How request and result bodies are written; the workers must use the same. Default: <see cref="JsonSerializerOptions.Web"/>.</summary>
    public JsonSerializerOptions? Json { get; init; }

    /// <summary>The clock of timeouts, heartbeats and ages (tests may pass a fake one).</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    internal void Validate()
    {
        static void Require(bool ok, string name, object? value, string rule)
        {
            if (!ok) throw new ArgumentException($"PoolOptions.{name} = {value}: {rule}", name);
        }
        static bool Positive(TimeSpan t) => t > TimeSpan.Zero;
        Require(!string.IsNullOrWhiteSpace(Name), nameof(Name), Name, "must not be empty");
        Require(Workers >= 1, nameof(Workers), Workers, "must be at least 1");
        Require(ConcurrencyPerWorker >= 1, nameof(ConcurrencyPerWorker), ConcurrencyPerWorker, "must be at least 1");
        Require(MaxQueue >= 1, nameof(MaxQueue), MaxQueue, "must be at least 1");
        Require(Positive(TaskTimeout) || TaskTimeout == Timeout.InfiniteTimeSpan, nameof(TaskTimeout), TaskTimeout, "must be positive or infinite");
        Require(Positive(StartTimeout), nameof(StartTimeout), StartTimeout, "must be positive");
        Require(Positive(HeartbeatInterval), nameof(HeartbeatInterval), HeartbeatInterval, "must be positive");
        Require(HeartbeatTimeout > HeartbeatInterval, nameof(HeartbeatTimeout), HeartbeatTimeout, "must be longer than HeartbeatInterval");
        Require(MaxTasks is null or >= 1, nameof(MaxTasks), MaxTasks, "must be at least 1");
        Require(MaxAge is null || Positive(MaxAge.Value), nameof(MaxAge), MaxAge, "must be positive");
        Require(MaxMemory is null or > 0, nameof(MaxMemory), MaxMemory, "must be positive");
        Require(RecycleJitter is >= 0 and <= 1, nameof(RecycleJitter), RecycleJitter, "must be between 0 and 1");
        Require(StopSignal is >= 1 and <= 64, nameof(StopSignal), StopSignal, "must be a signal number");
        Require(KillTimeout >= TimeSpan.Zero, nameof(KillTimeout), KillTimeout, "must not be negative");
        Require(ShutdownTimeout >= TimeSpan.Zero, nameof(ShutdownTimeout), ShutdownTimeout, "must not be negative");
        CircuitBreaker?.Validate();
    }
}

/// <summary>
/// When the pool stops sending tasks: the share of failed tasks (a lost worker, a timeout, an error
/// the worker returned; not refusals or cancellations) over <see cref="SamplingDuration"/>, once at
/// least <see cref="MinimumThroughput"/> tasks ran. While open, calls fail at once with
/// <see cref="PoolCircuitOpenException"/>; after <see cref="BreakDuration"/> one task is let through
/// to test the water. Polly's circuit breaker does the counting.
/// </summary>
public sealed record PoolCircuitBreaker
{
    /// <summary>The share of failed tasks that opens the circuit.</summary>
    public double FailureRatio { get; init; } = 0.5;
    /// <summary>Tasks needed within the sampling window before the ratio counts.</summary>
    public int MinimumThroughput { get; init; } = 10;
    /// <summary>The window the ratio is taken over.</summary>
    public TimeSpan SamplingDuration { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary>How long the circuit stays open before a trial task.</summary>
    public TimeSpan BreakDuration { get; init; } = TimeSpan.FromSeconds(5);

    internal void Validate()
    {
        if (FailureRatio is <= 0 or > 1) throw new ArgumentException($"PoolCircuitBreaker.FailureRatio = {FailureRatio}: must be above 0 and at most 1", nameof(FailureRatio));
        if (MinimumThroughput < 2) throw new ArgumentException($"PoolCircuitBreaker.MinimumThroughput = {MinimumThroughput}: must be at least 2", nameof(MinimumThroughput));
        if (SamplingDuration < TimeSpan.FromMilliseconds(500)) throw new ArgumentException($"PoolCircuitBreaker.SamplingDuration = {SamplingDuration}: must be at least 500 ms", nameof(SamplingDuration));
        if (BreakDuration < TimeSpan.FromMilliseconds(500)) throw new ArgumentException($"PoolCircuitBreaker.BreakDuration = {BreakDuration}: must be at least 500 ms", nameof(BreakDuration));
    }
}
