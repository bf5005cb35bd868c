using System.Net;
using System.Security.Cryptography;
using System.Text;
using Tend.Hosting;
using Tend.Pool;
using Tend.Pool.Worker;

// Worker mode: the pool started this program again with --worker. Render a page: hash the text
// `rounds` times (CPU work an app would rather keep out of its request threads and its process).
if (args.Contains("--worker"))
{
    Console.WriteLine($"render worker {PoolWorker.WorkerId} ready (pid {Environment.ProcessId})");
    await PoolWorker.RunAsync(async (RenderRequest request, CancellationToken ct) =>
    {
        await Task.Yield();
        byte[] data = Encoding.UTF8.GetBytes(request.Text);
        for (int i = 0; i < Math.Clamp(request.Rounds, 1, 1_000_000); i++)
        {
            ct.ThrowIfCancellationRequested();
            data = SHA256.HashData(data);
        }
        return new RenderResult(Convert.ToHexStringLower(data), Environment.ProcessId, PoolWorker.WorkerId,
            Environment.GetEnvironmentVariable("RENDER_VERSION") ?? "v1");
    });
    return;
}

var builder = WebApplication.CreateBuilder(args);
builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, builder.Configuration.GetValue("PORT", 8090)));
builder.Services.AddTend(); // READY=1 once Kestrel accepts (after the pool below is ready)

var app = builder.Build();
int workers = app.Configuration.GetValue("POOL_WORKERS", 2);
await using ProcessPool pool = await ProcessPool.StartAsync(WorkerSpec.ThisProgram("--worker") with { Version = "v1" }, new PoolOptions
{
    Name = "render",
    Workers = workers,
    MaxTasks = 1000,                      // a leak in the renderer never lives long
    TaskTimeout = TimeSpan.FromSeconds(10),
    LoggerFactory = app.Services.GetRequiredService<ILoggerFactory>(),
});
int generation = 1;

app.MapGet("/", () => $"pid={Environment.ProcessId} pool=render workers={workers}\n");
app.MapGet("/render", (string text, int? rounds, CancellationToken ct) =>
    pool.InvokeAsync<RenderRequest, RenderResult>(new RenderRequest(text, rounds ?? 1000), ct));
app.MapGet("/admin/workers", () => pool.Workers);
// A rolling replacement: one new worker at a time is started and ready, then one old one finishes its
// tasks and stops. Requests keep being served throughout.
app.MapPost("/admin/workers/replace", async (CancellationToken ct) =>
{
    string version = $"v{Interlocked.Increment(ref generation)}";
    WorkerSpec next = pool.Spec with
    {
        Version = version,
        Environment = new Dictionary<string, string> { ["RENDER_VERSION"] = version },
    };
    await pool.ReplaceAllAsync(next, batchSize: 1, ct);
    return pool.Workers;
});

await app.RunAsync();
// Kestrel has drained its requests; the pool finishes what is left and stops its workers (await using).

internal sealed record RenderRequest(string Text, int Rounds);

internal sealed record RenderResult(string Hash, int Pid, int Worker, string Version);
