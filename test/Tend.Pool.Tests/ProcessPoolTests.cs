using Microsoft.Extensions.Logging;
using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Tend.Pool.Tests.Support;
using Tend.Tests.Support;

namespace Tend.Pool.Tests;

/// <summary>The pool on real worker processes (poolworker), killed, frozen and recycled for real.</summary>
public sealed class ProcessPoolTests
{
    private static PoolOptions Options(int workers = 2) => new()
    {
        Name = "test",
        Workers = workers,
        StartTimeout = TimeSpan.FromSeconds(60),
        KillTimeout = TimeSpan.FromSeconds(5),
        ShutdownTimeout = TimeSpan.FromSeconds(10),
    };

    private static async Task AssertGoneAsync(IEnumerable<int> pids)
    {
        foreach (int pid in pids) await Eventually.TrueAsync(() => !TestWorker.IsRunning(pid), $"worker pid {pid} gone");
    }

    [Fact]
    public async Task Tasks_RunInTheWorkerProcesses_AndComeBackWithTheirResults()
    {
        var pool = await ProcessPool.StartAsync(TestWorker.Spec(), Options(2));
        int[] pids = [.. pool.Workers.Select(w => w.Pid)];
        try
        {
            Answer[] answers = await Task.WhenAll(Enumerable.Range(0, 20).Select(i => pool.RunAsync(new Job("echo", Text: $"n{i}"))));

            Assert.Equal(Enumerable.Range(0, 20).Select(i => $"n{i}"), answers.Select(a => a.Text));
            Assert.All(answers, a => Assert.Contains(a.Pid, pids));
            Assert.DoesNotContain(Environment.ProcessId, answers.Select(a => a.Pid));
            Assert.Equal(2, pool.Workers.Count(w => w.State == "active"));
        }
        finally
        {
            await pool.DisposeAsync();
        }
        await AssertGoneAsync(pids);
    }

    [Fact]
    public async Task KillNine_MidTask_FailsExactlyThatTask_AndThePoolRecovers()
    {
        var events = new ConcurrentQueue<PoolWorkerEvent>();
        await using var pool = await ProcessPool.StartAsync(TestWorker.Spec(), Options(2));
        pool.WorkerEvent += (_, e) => events.Enqueue(e);
        int[] before = [.. pool.Workers.Select(w => w.Pid)];

        // One long task on each worker (one task per worker at a time).
        Task<Answer> first = pool.RunAsync(new Job("sleep", Ms: 3000, Text: "a"));
        Task<Answer> second = pool.RunAsync(new Job("sleep", Ms: 3000, Text: "b"));
        await Eventually.TrueAsync(() => pool.InFlight == 2, "both tasks running");
        int victim = before[0];
        System.Diagnostics.Process.Start("kill", ["-9", victim.ToString()]).WaitForExit();

        var results = await Task.WhenAll(Settle(first), Settle(second));
        var lost = Assert.Single(results, r => r.Error is not null).Error;
        var failure = Assert.IsType<WorkerLostException>(lost);
        Assert.Equal(victim, failure.Pid);
        Assert.Contains("SIGKILL", failure.Reason);
        Assert.Single(results, r => r.Answer is not null);

        await Eventually.TrueAsync(() => pool.Workers.Count(w => w.State == "active") == 2, "a replacement serving");
        Answer after = await pool.RunAsync(new Job("echo", Text: "again"));
        Assert.Equal("again", after.Text);
        Assert.DoesNotContain(victim, pool.Workers.Select(w => w.Pid));
        Assert.Contains(events, e => e.Kind == PoolWorkerEventKind.Lost && e.Pid == victim);
    }

    [Fact]
    public async Task MaxTasks10_TheProcessChangesEveryTenTasks_WithNoFailedTask()
    {
        var options = Options(1) with { MaxTasks = 10, RecycleJitter = 0 };
        await using var pool = await ProcessPool.StartAsync(TestWorker.Spec(), options);

        var pids = new List<int>();
        for (int i = 0; i < 35; i++) pids.Add((await pool.RunAsync(new Job("echo"))).Pid);

        int[][] runs = [.. pids.Chunk(10)];
        Assert.Equal(4, pids.Distinct().Count());
        Assert.All(runs, run => Assert.Single(run.Distinct()));
        Assert.Equal(4, runs.Select(r => r[0]).Distinct().Count());
    }

    [Fact]
    public async Task RollingReplace_Under200ConcurrentTasks_ZeroFailed()
    {
        await using var pool = await ProcessPool.StartAsync(TestWorker.Spec(), Options(3));
        int[] old = [.. pool.Workers.Select(w => w.Pid)];

        Task<Answer>[] load = [.. Enumerable.Range(0, 200).Select(i => pool.RunAsync(new Job("sleep", Ms: 30, Text: $"t{i}")))];
        await pool.ReplaceAllAsync(TestWorker.Spec("--version", "v2"));
        Answer[] answers = await Task.WhenAll(load);

        Assert.Equal(200, answers.Length);
        Assert.Equal("v2", pool.Spec.Version);
        Assert.All(pool.Workers, w => Assert.Equal("v2", w.Version));
        Assert.Equal(3, pool.Workers.Count);
        Assert.Equal("v2", (await pool.RunAsync(new Job("echo"))).Version);
        await AssertGoneAsync(old);
    }

    [Fact]
    public async Task BlueGreenSwap_Under200ConcurrentTasks_ZeroFailed_AndTheStandbyWarmedUp()
    {
        await using var pool = await ProcessPool.StartAsync(TestWorker.Spec(), Options(2));
        int[] old = [.. pool.Workers.Select(w => w.Pid)];

        Task<Answer>[] load = [.. Enumerable.Range(0, 200).Select(i => pool.RunAsync(new Job("sleep", Ms: 30)))];
        await pool.SwapAsync(TestWorker.Spec("--version", "v2"), [new Job("echo", Text: "warm")], TestJson.Default.Job);
        Answer[] answers = await Task.WhenAll(load);

        Assert.Equal(200, answers.Length);
        Assert.All(pool.Workers, w => Assert.True(w.TasksDone >= 1, $"worker {w.WorkerId} ran its warm-up"));
        Assert.Equal("v2", (await pool.RunAsync(new Job("echo"))).Version);
        await AssertGoneAsync(old);
    }

    [Theory]
    [InlineData("--broken")]
    [InlineData("--exit-at-start")]
    public async Task Swap_ToAStandbyThatFailsItsChecks_LeavesTheActivePoolServing(string flaw)
    {
        await using var pool = await ProcessPool.StartAsync(TestWorker.Spec(), Options(2));
        int[] active = [.. pool.Workers.Select(w => w.Pid)];
        var started = new ConcurrentQueue<PoolWorkerEvent>();
        pool.WorkerEvent += (_, e) => { if (e.Kind == PoolWorkerEventKind.Started) started.Enqueue(e); };

        Task<Answer>[] load = [.. Enumerable.Range(0, 50).Select(i => pool.RunAsync(new Job("sleep", Ms: 20)))];
        var refused = await Assert.ThrowsAsync<PoolReplaceException>(() =>
            pool.SwapAsync(TestWorker.Spec("--version", "v2", flaw), [new Job("echo")], TestJson.Default.Job));
        await Task.WhenAll(load);

        Assert.Contains("the active pool was not touched", refused.Message);
        Assert.Equal("v1", pool.Spec.Version);
        Assert.Equal(active.Order(), pool.Workers.Select(w => w.Pid).Order());
        Assert.Equal("v1", (await pool.RunAsync(new Job("echo"))).Version);
        await AssertGoneAsync(started.Select(e => e.Pid));
    }

    [Fact]
    public async Task AHungWorker_IsKilledAfterItsHeartbeatDeadline_AndReplaced()
    {
        var options = Options(1) with { HeartbeatInterval = TimeSpan.FromMilliseconds(200), HeartbeatTimeout = TimeSpan.FromSeconds(1), TaskTimeout = Timeout.InfiniteTimeSpan };
        await using var pool = await ProcessPool.StartAsync(TestWorker.Spec(), options);
        int frozen = pool.Workers.Single().Pid;

        var lost = await Assert.ThrowsAsync<WorkerLostException>(() => pool.RunAsync(new Job("freeze")));

        Assert.Equal(frozen, lost.Pid);
        Assert.Contains("hung", lost.Reason);
        Answer after = await pool.RunAsync(new Job("echo"));
        Assert.NotEqual(frozen, after.Pid);
        await AssertGoneAsync([frozen]);
    }

    [Fact]
    public async Task TaskTimeout_FailsThatTask_AndReplacesOnlyItsWorker()
    {
        var options = Options(2) with { TaskTimeout = TimeSpan.FromSeconds(2) };
        await using var pool = await ProcessPool.StartAsync(TestWorker.Spec(), options);
        int[] before = [.. pool.Workers.Select(w => w.Pid)];

        Task<Answer> stuck = pool.RunAsync(new Job("spin", Ms: 600_000));
        Answer[] others = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => pool.RunAsync(new Job("sleep", Ms: 50))));
        var timeout = await Assert.ThrowsAsync<PoolTaskTimeoutException>(() => stuck);

        Assert.Equal(10, others.Length);
        Assert.Contains(timeout.Pid, before);
        await AssertGoneAsync([timeout.Pid]);
        int survivor = before.Single(p => p != timeout.Pid);
        await Eventually.TrueAsync(() => pool.Workers.Count(w => w.State == "active") == 2, "a replacement serving");
        Assert.Contains(survivor, pool.Workers.Select(w => w.Pid));
    }

    [Fact]
    public async Task Shutdown_WaitsForRunningTasks_ThenLeavesNoProcess()
    {
        var pool = await ProcessPool.StartAsync(TestWorker.Spec(), Options(2));
        int[] pids = [.. pool.Workers.Select(w => w.Pid)];
        Task<Answer> running = pool.RunAsync(new Job("sleep", Ms: 1500, Text: "finished"));
        Task<Answer> queued = pool.RunAsync(new Job("sleep", Ms: 1500, Text: "also"));
        await Eventually.TrueAsync(() => pool.InFlight == 2, "both running");

        Task shutdown = pool.ShutdownAsync(TimeSpan.FromSeconds(20));
        await Assert.ThrowsAsync<PoolShutdownException>(() => pool.RunAsync(new Job("echo")));
        await shutdown;

        Assert.Equal("finished", (await running).Text);
        Assert.Equal("also", (await queued).Text);
        Assert.All(pids, pid => Assert.False(TestWorker.IsRunning(pid), $"pid {pid} still running"));
    }

    [Fact]
    public async Task Shutdown_PastItsTimeout_FailsWhatIsLeft_AndKillsTheWorkers()
    {
        var pool = await ProcessPool.StartAsync(TestWorker.Spec(), Options(1) with { KillTimeout = TimeSpan.FromSeconds(1) });
        int pid = pool.Workers.Single().Pid;
        Task<Answer> endless = pool.RunAsync(new Job("spin", Ms: 600_000));
        Task<Answer> waiting = pool.RunAsync(new Job("echo"));
        await Eventually.TrueAsync(() => pool.InFlight == 1, "the endless task running");

        await pool.ShutdownAsync(TimeSpan.FromMilliseconds(500));

        await Assert.ThrowsAnyAsync<PoolException>(() => endless);
        await Assert.ThrowsAsync<PoolShutdownException>(() => waiting);
        Assert.False(TestWorker.IsRunning(pid));
    }

    [Fact]
    public async Task AFullQueue_RefusesTheNextTask_NamingTheLimit()
    {
        await using var pool = await ProcessPool.StartAsync(TestWorker.Spec(), Options(1) with { MaxQueue = 2 });
        Task<Answer> busy = pool.RunAsync(new Job("sleep", Ms: 1000));
        await Eventually.TrueAsync(() => pool.InFlight == 1, "the worker busy");
        Task<Answer>[] queued = [pool.RunAsync(new Job("echo")), pool.RunAsync(new Job("echo"))];

        var full = await Assert.ThrowsAsync<PoolQueueFullException>(() => pool.RunAsync(new Job("echo")));

        Assert.Contains("2 tasks waiting", full.Message);
        await busy;
        await Task.WhenAll(queued);
    }

    [Fact]
    public async Task Cancelling_ReachesTheWorkersHandler()
    {
        await using var pool = await ProcessPool.StartAsync(TestWorker.Spec(), Options(1));
        string marker = Path.Combine(Path.GetTempPath(), $"tend-pool-cancel-{Guid.NewGuid():N}");
        using var cts = new CancellationTokenSource();
        Task<Answer> task = pool.RunAsync(new Job("wait-cancel", Text: marker), cts.Token);
        await Eventually.TrueAsync(() => pool.InFlight == 1, "the task running");

        cts.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => task);
        await Eventually.TrueAsync(() => File.Exists(marker), "the worker's handler saw the cancellation");
        File.Delete(marker);
        Assert.Equal("ok", (await pool.RunAsync(new Job("echo", Text: "ok"))).Text);
    }

    [Fact]
    public async Task AHandlerThatThrows_FailsThatTaskWithItsType_AndTheWorkerServesOn()
    {
        await using var pool = await ProcessPool.StartAsync(TestWorker.Spec(), Options(1));
        int pid = pool.Workers.Single().Pid;

        var error = await Assert.ThrowsAsync<WorkerTaskException>(() => pool.RunAsync(new Job("throw", Text: "bad input")));

        Assert.Equal("System.ArgumentException", error.RemoteType);
        Assert.Equal("bad input", error.RemoteMessage);
        Assert.Equal(pid, (await pool.RunAsync(new Job("echo"))).Pid);
    }

    [Fact]
    public async Task MaxMemory_RecyclesAWorkerThatGrewPastItsBaseline_WithItsReplacementReadyFirst()
    {
        var events = new ConcurrentQueue<PoolWorkerEvent>();
        var options = Options(1) with { MaxMemory = 64L << 20, HeartbeatInterval = TimeSpan.FromMilliseconds(200) };
        await using var pool = await ProcessPool.StartAsync(TestWorker.Spec(), options);
        pool.WorkerEvent += (_, e) => events.Enqueue(e);
        int grown = (await pool.RunAsync(new Job("echo"))).Pid; // the baseline

        await pool.RunAsync(new Job("grow", Bytes: 128 << 20));

        await Eventually.TrueAsync(() => events.Any(e => e.Kind == PoolWorkerEventKind.Recycled && e.Pid == grown), "a max_memory recycle");
        Assert.Equal("max_memory", events.First(e => e.Kind == PoolWorkerEventKind.Recycled).Reason);
        var order = events.ToList();
        int startedAt = order.FindIndex(e => e.Kind == PoolWorkerEventKind.Started);
        int recycledAt = order.FindIndex(e => e.Kind == PoolWorkerEventKind.Recycled);
        Assert.True(startedAt >= 0 && startedAt < recycledAt, "the replacement was ready before the old worker retired");
        Assert.NotEqual(grown, (await pool.RunAsync(new Job("echo"))).Pid);
    }

    [Fact]
    public async Task MaxAge_RecyclesWorkersOneAtATime_WhileTasksKeepSucceeding()
    {
        var events = new ConcurrentQueue<PoolWorkerEvent>();
        var options = Options(2) with { MaxAge = TimeSpan.FromSeconds(2), HeartbeatInterval = TimeSpan.FromMilliseconds(200) };
        await using var pool = await ProcessPool.StartAsync(TestWorker.Spec(), options);
        pool.WorkerEvent += (_, e) => events.Enqueue(e);
        int[] first = [.. pool.Workers.Select(w => w.Pid)];

        var until = DateTime.UtcNow.AddSeconds(6);
        int done = 0;
        while (DateTime.UtcNow < until || events.Count(e => e.Kind == PoolWorkerEventKind.Recycled) < 2)
        {
            await pool.RunAsync(new Job("sleep", Ms: 20));
            done++;
            Assert.True(DateTime.UtcNow < until.AddSeconds(60), "two recycles within a minute");
        }

        Assert.All(events.Where(e => e.Kind == PoolWorkerEventKind.Recycled), e => Assert.Equal("max_age", e.Reason));
        Assert.True(pool.Workers.Count(w => w.State == "active") >= 2);
        await AssertGoneAsync(first);
    }

    [Fact]
    public async Task Metrics_CountTasksFailuresAndRecycles_OnTheTendPoolMeter()
    {
        var measured = new ConcurrentDictionary<string, double>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) => { if (instrument.Meter.Name == "Tend.Pool") l.EnableMeasurementEvents(instrument); };
        listener.SetMeasurementEventCallback<double>((i, value, tags, _) => { if (PoolOf(tags) == "metered") measured.AddOrUpdate(i.Name, 1, (_, n) => n + 1); });
        listener.SetMeasurementEventCallback<long>((i, value, tags, _) => { if (PoolOf(tags) == "metered") measured.AddOrUpdate(i.Name + KindOf(tags), value, (_, n) => n + value); });
        listener.SetMeasurementEventCallback<int>((i, value, tags, _) => { if (PoolOf(tags) == "metered") measured[i.Name] = value; });
        listener.Start();

        await using var pool = await ProcessPool.StartAsync(TestWorker.Spec(), Options(1) with { Name = "metered", MaxTasks = 3, RecycleJitter = 0 });
        for (int i = 0; i < 4; i++) await pool.RunAsync(new Job("echo"));
        await Assert.ThrowsAsync<WorkerTaskException>(() => pool.RunAsync(new Job("throw")));
        listener.RecordObservableInstruments();

        Assert.Equal(5, measured["tend.pool.task.duration"]);
        Assert.Equal(1, measured["tend.pool.task.failures/task_error"]);
        Assert.True(measured.GetValueOrDefault("tend.pool.worker.recycles/max_tasks") >= 1);
        Assert.Equal(1, measured["tend.pool.workers"]);
        Assert.Equal(0, measured["tend.pool.queue.length"]);
    }

    private static string? PoolOf(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        foreach (var t in tags) if (t.Key == "tend.pool.name") return t.Value as string;
        return null;
    }

    private static string KindOf(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        foreach (var t in tags) if (t.Key is "kind" or "reason") return "/" + t.Value;
        return "";
    }

    [Fact]
    public async Task CircuitBreaker_OpensAfterTooManyFailures_AndRefusesWithoutSending()
    {
        var options = Options(1) with { CircuitBreaker = new PoolCircuitBreaker { MinimumThroughput = 4, FailureRatio = 0.5, BreakDuration = TimeSpan.FromSeconds(30) } };
        await using var pool = await ProcessPool.StartAsync(TestWorker.Spec(), options);
        for (int i = 0; i < 4; i++) await Assert.ThrowsAsync<WorkerTaskException>(() => pool.RunAsync(new Job("throw")));

        var open = await Assert.ThrowsAsync<PoolCircuitOpenException>(() => pool.RunAsync(new Job("echo")));

        Assert.Contains("circuit breaker is open", open.Message);
        Assert.Equal(4, pool.Workers.Single().TasksDone);
    }

    [Fact]
    public async Task WorkerOutput_GoesToTheAppsLogger_ALinePerEntry_NotIntoTheChannel()
    {
        var lines = new ConcurrentQueue<string>();
        using var factory = Microsoft.Extensions.Logging.LoggerFactory.Create(b => b.AddProvider(new ListProvider(lines)));
        await using var pool = await ProcessPool.StartAsync(TestWorker.Spec(), Options(1) with { LoggerFactory = factory });

        Answer answer = await pool.RunAsync(new Job("print", Text: "hello from a task"));

        Assert.Equal("hello from a task", answer.Text);
        await Eventually.TrueAsync(() => lines.Any(l => l.EndsWith("] hello from a task", StringComparison.Ordinal)), "stdout line");
        await Eventually.TrueAsync(() => lines.Any(l => l.StartsWith("Warning", StringComparison.Ordinal) && l.EndsWith("err: hello from a task", StringComparison.Ordinal)), "stderr line");
        Assert.Contains(lines, l => l.Contains("worker 1 v1 up", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("Workers")]
    [InlineData("HeartbeatTimeout")]
    [InlineData("MaxQueue")]
    public async Task BadOptions_AreRefusedNamingTheProperty_AndStartNothing(string field)
    {
        PoolOptions bad = field switch
        {
            "Workers" => Options() with { Workers = 0 },
            "HeartbeatTimeout" => Options() with { HeartbeatTimeout = TimeSpan.FromMilliseconds(500) },
            _ => Options() with { MaxQueue = 0 },
        };
        var e = await Assert.ThrowsAsync<ArgumentException>(() => ProcessPool.StartAsync(TestWorker.Spec(), bad));
        Assert.Contains($"PoolOptions.{field}", e.Message);
    }

    [Fact]
    public async Task AWorkerProgramThatCannotStart_FailsStartAsync_NamingIt()
    {
        var e = await Assert.ThrowsAsync<WorkerStartException>(() => ProcessPool.StartAsync(new WorkerSpec("/nonexistent/worker", []), Options(1)));
        Assert.Contains("/nonexistent/worker", e.Message);
        var early = await Assert.ThrowsAsync<WorkerStartException>(() => ProcessPool.StartAsync(TestWorker.Spec("--exit-at-start"), Options(1)));
        Assert.Contains("exit code 3", early.Message);
    }

    [Fact]
    public async Task AWorkerInAnotherLanguage_SpeakingTheDocumentedProtocol_ServesTheSameWay()
    {
        string script = Path.Combine(AppContext.BaseDirectory, "Workers", "worker.py");
        var lines = new ConcurrentQueue<string>();
        using var factory = Microsoft.Extensions.Logging.LoggerFactory.Create(b => b.AddProvider(new ListProvider(lines)));
        var pool = await ProcessPool.StartAsync(new WorkerSpec("python3", [script]) { Version = "python" },
            Options(2) with { LoggerFactory = factory, HeartbeatInterval = TimeSpan.FromMilliseconds(200) });
        int[] pids = [.. pool.Workers.Select(w => w.Pid)];
        try
        {
            Answer[] answers = await Task.WhenAll(Enumerable.Range(0, 10).Select(i => pool.RunAsync(new Job("echo", Text: $"p{i}"))));
            var error = await Assert.ThrowsAsync<WorkerTaskException>(() => pool.RunAsync(new Job("throw", Text: "no")));
            await Task.Delay(600); // a few heartbeats: the script answers pings, so nothing is called hung

            Assert.Equal(Enumerable.Range(0, 10).Select(i => $"p{i}"), answers.Select(a => a.Text));
            Assert.All(answers, a => Assert.Contains(a.Pid, pids));
            Assert.Equal("ValueError", error.RemoteType);
            Assert.Equal(pids.Order(), pool.Workers.Select(w => w.Pid).Order());
            Assert.Contains(lines, l => l.Contains("python worker 1 up", StringComparison.Ordinal));
        }
        finally
        {
            await pool.DisposeAsync();
        }
        Assert.All(pids, pid => Assert.False(TestWorker.IsRunning(pid)));
    }

    private static async Task<(Answer? Answer, Exception? Error)> Settle(Task<Answer> task)
    {
        try
        {
            return (await task, null);
        }
        catch (Exception e)
        {
            return (null, e);
        }
    }

    private sealed class ListProvider(ConcurrentQueue<string> lines) : Microsoft.Extensions.Logging.ILoggerProvider
    {
        public Microsoft.Extensions.Logging.ILogger CreateLogger(string categoryName) => new ListLogger(lines);
        public void Dispose() { }
    }

    private sealed class ListLogger(ConcurrentQueue<string> lines) : Microsoft.Extensions.Logging.ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(Microsoft.Extensions.Logging.LogLevel logLevel) => true;
        public void Log<TState>(Microsoft.Extensions.Logging.LogLevel logLevel, Microsoft.Extensions.Logging.EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            lines.Enqueue($"{logLevel} {formatter(state, exception)}");
    }
}

/// <summary>What the library may lean on: the platform layer and the worker protocol, never the engine,
/// the daemon or ASP.NET (an app that only wants a pool must not carry Tend's daemon).</summary>
public sealed class PoolDependencyTests
{
    [Fact]
    public void TendPool_ReferencesThePlatformLayer_NotTheEngineDaemonOrAspNet()
    {
        string[] references = [.. typeof(ProcessPool).Assembly.GetReferencedAssemblies().Select(a => a.Name!)];

        Assert.Contains("Tend.Platform", references);
        Assert.Contains("Tend.Pool.Worker", references);
        Assert.DoesNotContain(references, r => r is "Tend.Engine" or "tend-daemon" or "Tend.Protocol" || r.StartsWith("Microsoft.AspNetCore", StringComparison.Ordinal));
    }

    [Fact]
    public void TheWorkerHelper_ReferencesNothingOfTends()
    {
        string[] references = [.. typeof(Tend.Pool.Worker.PoolWorker).Assembly.GetReferencedAssemblies().Select(a => a.Name!)];
        Assert.DoesNotContain(references, r => r.StartsWith("Tend", StringComparison.Ordinal));
    }
}
