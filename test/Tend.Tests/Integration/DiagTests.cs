using System.Text.Json;
using Tend.Api;
using Tend.Runtime;
using Tend.Tests.Support;

namespace Tend.Tests.Integration;

/// <summary>
/// `tend diag` and collection rules on real processes (docs/alerts.md#diagnostics): the ASP.NET
/// example's dump, trace and heap snapshot, a Node heap snapshot, a core of any process, and a rule
/// that collects at most twice an hour even across a daemon restart.
/// </summary>
public sealed class DiagTests : IAsyncLifetime
{
    private readonly TendHome _home = new();

    public Task InitializeAsync() => Task.CompletedTask;
    public async Task DisposeAsync() => await _home.DisposeAsync();

    private async Task<DiagArtifactInfo> DiagAsync(params string[] args)
    {
        CliResult r = await _home.OkAsync(["diag", .. args, "--json"]);
        return JsonSerializer.Deserialize(r.Stdout, TendJsonContext.Default.DiagArtifactInfo)!;
    }

    /// <summary>Every (provider, event id) in a nettrace, read by the reader the counters use.</summary>
    private static async Task<HashSet<(string Provider, int EventId)>> EventsIn(string path)
    {
        var seen = new HashSet<(string, int)>();
        await using FileStream file = File.OpenRead(path);
        var header = new byte[8];
        file.ReadExactly(header);
        Assert.Equal("Nettrace"u8.ToArray(), header);
        file.Position = 0;
        var reader = new NettraceReader(file, (_, _) => { }, m => { seen.Add((m.Provider, m.EventId)); return false; });
        await reader.ReadAsync(CancellationToken.None);
        return seen;
    }

    [Fact]
    public async Task AspNetExample_DumpTraceAndHeapSnapshot_OpenWithTheTooling()
    {
        Assert.True(File.Exists(TestPaths.ReadyDemo), $"{TestPaths.ReadyDemo} is not built");
        int port = FreePorts.Next();
        string config = _home.WriteConfig($$"""
            apps:
              web:
                cmd: {{TestPaths.ReadyDemo}}
                env: { PORT: "{{port}}", WARMUP_MS: "500" }
                ready: { notify: true, ready_timeout: 60s }
            """);
        await _home.OkAsync("start", config);
        await _home.WaitForAsync(l => l.Single().Ready, "the example ready", TimeSpan.FromSeconds(60));

        DiagArtifactInfo trace = await DiagAsync("web", "trace", "--duration", "2s");
        Assert.Equal(("trace", "web", 0, "manual"), (trace.Kind, trace.App, trace.Instance, trace.Trigger));
        HashSet<(string Provider, int EventId)> events = await EventsIn(trace.Path);
        Assert.Contains(events, e => e.Provider == "Microsoft-DotNETCore-SampleProfiler");
        Assert.Contains(events, e => e.Provider == "Microsoft-Windows-DotNETRuntime");

        DiagArtifactInfo dump = await DiagAsync("web", "dump");
        byte[] magic = new byte[4];
        await using (FileStream f = File.OpenRead(dump.Path)) f.ReadExactly(magic);
        Assert.Equal(new byte[] { 0x7F, (byte)'E', (byte)'L', (byte)'F' }, magic); // a core file, what dotnet-dump analyze opens
        Assert.True(dump.Bytes > 10 * 1024 * 1024, $"{dump.Bytes} bytes: a heap dump of an ASP.NET app is bigger");

        DiagArtifactInfo heap = await DiagAsync("web", "gcdump", "--duration", "3s");
        // GCBulkNode (18) and GCBulkEdge (19): the object graph of the induced GC.
        HashSet<(string Provider, int EventId)> heapEvents = await EventsIn(heap.Path);
        Assert.Contains(("Microsoft-Windows-DotNETRuntime", 18), heapEvents);
        Assert.Contains(("Microsoft-Windows-DotNETRuntime", 19), heapEvents);

        DiagListInfo list = JsonSerializer.Deserialize((await _home.OkAsync("diag", "ls", "--json")).Stdout, TendJsonContext.Default.DiagListInfo)!;
        Assert.Equal(["dump", "gcdump", "trace"], list.Artifacts.Select(a => a.Kind).Order());
        Assert.Equal(list.Artifacts.Sum(a => a.Bytes), list.UsedBytes - new DirectoryInfo(list.Dir).EnumerateFiles("*.json").Sum(f => f.Length));
        CliResult events2 = await _home.OkAsync("events", "--no-follow");
        Assert.Contains("trace collected", events2.Stdout);

        await _home.OkAsync("diag", "rm", trace.Id);
        Assert.False(File.Exists(trace.Path));
    }

    [Fact]
    public async Task NodeApp_HeapSnapshot_ParsesAsJson()
    {
        string script = Path.Combine(_home.Dir, "server.js");
        File.WriteAllText(script, "const keep = []; for (let i = 0; i < 1000; i++) keep.push({ i, s: 'x'.repeat(100) }); setInterval(() => keep.length, 1000);\n");
        string config = _home.WriteConfig($$"""
            apps:
              api:
                cmd: node
                args: [{{script}}]
                node_diagnostics: true
            """);
        await _home.OkAsync("start", config);
        await _home.WaitForAsync(l => l.Single().Status == "online", "node online");
        await Task.Delay(500); // node installs its signal handler while it starts

        DiagArtifactInfo snapshot = await DiagAsync("api", "heapsnapshot");

        using JsonDocument doc = JsonDocument.Parse(File.ReadAllBytes(snapshot.Path));
        Assert.True(doc.RootElement.GetProperty("snapshot").GetProperty("node_count").GetInt32() > 1000);
        Assert.Equal("heapsnapshot", snapshot.Kind);
    }

    [Fact]
    public async Task BadRequests_SayWhy_AndCollectNothing()
    {
        string config = _home.WriteConfig($$"""
            apps:
              plain: { cmd: /bin/sleep, args: ["600"] }
            """);
        await _home.OkAsync("start", config);

        CliResult notDotnet = await _home.RunAsync("diag", "plain", "dump");
        Assert.Equal(1, notDotnet.ExitCode);
        Assert.Contains("is not a .NET process", notDotnet.Stderr);
        CliResult notNode = await _home.RunAsync("diag", "plain", "heapsnapshot");
        Assert.Contains("node_diagnostics: true", notNode.Stderr);
        CliResult unknown = await _home.RunAsync("diag", "nope", "core");
        Assert.NotEqual(0, unknown.ExitCode);
        Assert.Contains("unknown target", unknown.Stderr);
        CliResult badKind = await _home.RunAsync("diag", "plain", "heapdump");
        Assert.Equal(2, badKind.ExitCode);
        Assert.Contains("unknown kind 'heapdump'", badKind.Stderr);

        // Any process gets a core (gdb's gcore), and keeps running.
        DiagArtifactInfo core = await DiagAsync("plain", "core");
        Assert.True(core.Bytes > 0);
        Assert.Equal("online", (await _home.ListAsync()).Single().Status);
        DiagListInfo list = JsonSerializer.Deserialize((await _home.OkAsync("diag", "ls", "--json")).Stdout, TendJsonContext.Default.DiagListInfo)!;
        Assert.Equal(["core"], list.Artifacts.Select(a => a.Kind));
    }

    [Fact]
    public async Task CollectionRule_TwoPerHour_FiredFiveTimes_TwoArtifacts_AlsoAcrossADaemonRestart()
    {
        // Over max_memory at once: each run is restarted after two samples, collect first.
        string config = _home.WriteConfig($$"""
            apps:
              hog:
                cmd: {{TendHome.Child}}
                args: [--alloc, "80", --sleep]
                max_memory: 40M
                max_restarts: 100
            diagnostics:
              - { name: before-restart, when: memory_limit, collect: trace, duration: 1s, count: 2, per: 1h }
            """);
        await _home.OkAsync("start", config);
        await Eventually.ReturnsAsync(() => _home.OkAsync("events", "--no-follow"),
            r => r.Stdout.Split('\n').Count(l => l.Contains("memory_limit") || l.Contains("above max_memory")) >= 3, "three max_memory restarts", TimeSpan.FromSeconds(60));
        await _home.OkAsync("kill");

        await _home.OkAsync("start", config);
        CliResult events = await Eventually.ReturnsAsync(() => _home.OkAsync("events", "--no-follow"),
            r => r.Stdout.Split('\n').Count(l => l.Contains("above max_memory")) >= 2, "two more after the restart", TimeSpan.FromSeconds(60));
        Assert.Contains("limit of 2 per 1h is used up", events.Stdout);

        DiagListInfo list = JsonSerializer.Deserialize((await _home.OkAsync("diag", "ls", "--json")).Stdout, TendJsonContext.Default.DiagListInfo)!;
        Assert.Equal(2, list.Artifacts.Count);
        Assert.All(list.Artifacts, a => Assert.Equal("rule before-restart (before a max_memory restart)", a.Trigger));
    }
}
