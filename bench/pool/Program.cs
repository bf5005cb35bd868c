using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Tend.Pool;
using Tend.Pool.Worker;

// poolbench --worker           serve a pool's tasks
// poolbench --once TEXT        do one task and print its result (the process-per-task way)
// poolbench [--seconds S] [--workers N]   measure the three ways, print one JSON object
if (args.Length > 0 && args[0] == "--worker")
{
    await PoolWorker.RunAsync((Job task, CancellationToken _) => ValueTask.FromResult(Work.Do(task)), BenchJson.Default.Job, BenchJson.Default.Result);
    return 0;
}
if (args.Length > 1 && args[0] == "--once")
{
    Console.WriteLine(Work.Do(new Job(args[1])).Hash);
    return 0;
}

double seconds = Arg("--seconds", 5);
int workers = (int)Arg("--workers", 2);
string self = Environment.ProcessPath!;
var results = new Dictionary<string, object>();

// 1. Direct: the same function called in-process, one caller.
results["direct"] = await MeasureAsync(seconds, 1, i => ValueTask.FromResult(Work.Do(new Job($"t{i}"))));

// 2. Through the pool: one caller waiting for each answer, then enough callers to keep every worker busy.
await using (var pool = await ProcessPool.StartAsync(new WorkerSpec(self, ["--worker"]), new PoolOptions { Name = "bench", Workers = workers, MaxQueue = 10_000 }))
{
    await MeasureAsync(1, 1, i => new ValueTask<Result>(pool.InvokeAsync(new Job($"w{i}"), BenchJson.Default.Job, BenchJson.Default.Result))); // warm-up
    results["pool_1"] = await MeasureAsync(seconds, 1, i => new ValueTask<Result>(pool.InvokeAsync(new Job($"t{i}"), BenchJson.Default.Job, BenchJson.Default.Result)));
    results["pool_16"] = await MeasureAsync(seconds, 16, i => new ValueTask<Result>(pool.InvokeAsync(new Job($"t{i}"), BenchJson.Default.Job, BenchJson.Default.Result)));
}

// 3. A process per task: start the program with --once, read its answer, wait for its exit.
results["spawn_1"] = await MeasureAsync(seconds, 1, async i =>
{
    using var p = Process.Start(new ProcessStartInfo(self, ["--once", $"t{i}"]) { RedirectStandardOutput = true })!;
    string hash = (await p.StandardOutput.ReadToEndAsync()).Trim();
    await p.WaitForExitAsync();
    return new Result(hash);
});
results["workers"] = workers;
results["cores"] = Environment.ProcessorCount;
Console.WriteLine(JsonSerializer.Serialize(results, BenchJson.Default.DictionaryStringObject));
return 0;

double Arg(string name, double fallback)
{
    int i = Array.IndexOf(args, name);
    return i >= 0 ? double.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
}

static async Task<Dictionary<string, object>> MeasureAsync(double seconds, int callers, Func<int, ValueTask<Result>> call)
{
    var latencies = new List<double>[callers];
    int next = 0;
    var clock = Stopwatch.StartNew();
    var deadline = TimeSpan.FromSeconds(seconds);
    await Task.WhenAll(Enumerable.Range(0, callers).Select(c => Task.Run(async () =>
    {
        var mine = latencies[c] = [];
        while (clock.Elapsed < deadline)
        {
            long start = Stopwatch.GetTimestamp();
            Result r = await call(Interlocked.Increment(ref next));
            if (r.Hash.Length != 64) throw new InvalidOperationException("wrong answer");
            mine.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
        }
    })));
    double elapsed = clock.Elapsed.TotalSeconds;
    double[] all = [.. latencies.SelectMany(l => l).Order()];
    double Pct(double p) => all.Length == 0 ? 0 : all[Math.Min(all.Length - 1, (int)Math.Ceiling(p * all.Length) - 1)];
    return new()
    {
        ["callers"] = callers,
        ["tasks"] = all.Length,
        ["per_second"] = Math.Round(all.Length / elapsed, 1),
        ["p50_ms"] = Math.Round(Pct(0.50), 4),
        ["p99_ms"] = Math.Round(Pct(0.99), 4),
    };
}

internal sealed record Job(string Text);

internal sealed record Result(string Hash);

internal static class Work
{
    public static Result Do(Job task) => new(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(task.Text))));
}

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(Job))]
[JsonSerializable(typeof(Result))]
[JsonSerializable(typeof(Dictionary<string, object>))]
[JsonSerializable(typeof(int))]
[JsonSerializable(typeof(double))]
internal sealed partial class BenchJson : JsonSerializerContext;
