using Tend.Api;
using Tend.Tests.Support;

namespace Tend.Tests.Integration;

/// <summary>
/// PM2's app-side protocol over Node's own IPC channel (docs/health.md#node-apps), with a real node:
/// process.send('ready') is readiness, the 'shutdown' message comes before the stop signal, and a
/// PM2 cluster app, its code as it was under PM2, survives ten reloads under load.
/// </summary>
public sealed class NodeIpcTests : IAsyncLifetime
{
    private readonly TendHome _home = new();

    public Task InitializeAsync() => Task.CompletedTask;
    public async Task DisposeAsync() => await _home.DisposeAsync();

    /// <summary>A server written for PM2: it signals readiness with process.send('ready') a while after it
    /// listens, and closes gracefully on PM2's 'shutdown' message or on SIGINT. READY_DELAY_MS is read
    /// only so the reload test need not wait 2 s per instance; the code is the same.</summary>
    private const string Pm2Server = """
        const http = require('http');
        const fs = require('fs');
        const delay = Number(process.env.READY_DELAY_MS || 2000);
        const server = http.createServer((req, res) => res.end(`ok from ${process.env.NODE_APP_INSTANCE}\n`));
        server.listen(process.env.PORT || 3000, () => {
          console.log(`listening instance=${process.env.NODE_APP_INSTANCE}`);
          setTimeout(() => {
            fs.writeFileSync(`sent-ready-${process.pid}`, String(Date.now()));
            process.send('ready');
          }, delay);
        });
        function shutdown(why) {
          console.log(`shutdown by ${why}`);
          if (process.env.IGNORE_SHUTDOWN === '1') return;
          server.close(() => process.exit(0));
        }
        process.on('message', (msg) => { console.log(`got message ${JSON.stringify(msg)}`); if (msg === 'shutdown') shutdown('message'); });
        process.on('SIGINT', () => { console.log('got SIGINT'); server.close(() => process.exit(0)); });
        """;

    private string Write(string name, string text)
    {
        string path = Path.Combine(_home.Dir, "project", name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
        return path;
    }

    private async Task<string> LogsAsync(string target) => (await _home.OkAsync("logs", target, "--no-follow", "--lines", "100")).Stdout;

    [Fact]
    public async Task ProcessSendReady_MakesTheInstanceReady_OnlyThen()
    {
        Write("server.js", Pm2Server);
        int port = FreePorts.Next();
        string config = _home.WriteConfig($$"""
            apps:
              api:
                run: node server.js
                cwd: {{Path.Combine(_home.Dir, "project")}}
                env: { PORT: "{{port}}" }
                ready: { message: ready, ready_timeout: 30s }
            """);

        await _home.OkAsync("start", config);
        // It listens at once and says ready 2 s later: until then it is online and not ready.
        await Eventually.ReturnsAsync(() => LogsAsync("api"), t => t.Contains("listening instance=0"), "the server listening");
        InstanceInfo early = (await _home.ListAsync()).Single();
        bool sentBefore = Directory.GetFiles(Path.Combine(_home.Dir, "project"), "sent-ready-*").Length > 0;
        Assert.True(sentBefore || !early.Ready, "ready before process.send('ready')");

        InstanceInfo ready = (await _home.WaitForAsync(l => l.Single().Ready, "process.send('ready') to count")).Single();
        Assert.True(File.Exists(Path.Combine(_home.Dir, "project", $"sent-ready-{ready.Pid}")), "ready without the app having sent 'ready'");
        string environ = File.ReadAllText($"/proc/{ready.Pid}/environ");
        Assert.Contains("NODE_APP_INSTANCE=0\0", environ);
        Assert.Contains("NODE_CHANNEL_FD=3\0", environ);
    }

    [Fact]
    public async Task NeverSendsReady_TheStartFails_SayingWhatWasMissing()
    {
        Write("server.js", Pm2Server);
        string config = _home.WriteConfig($$"""
            apps:
              api:
                run: node server.js
                cwd: {{Path.Combine(_home.Dir, "project")}}
                env: { PORT: "{{FreePorts.Next()}}", READY_DELAY_MS: "600000" }
                restart: never
                ready: { message: ready, ready_timeout: 2s }
            """);

        await _home.OkAsync("start", config);

        AppInfo app = await Eventually.ReturnsAsync(() => _home.DescribeAsync("api"), a => a.Instances[0].Status != "online" && a.Instances[0].RecentExits.Count > 0, "the ready timeout");
        Assert.Contains("never called process.send('ready')", app.Instances[0].RecentExits[^1].Reason);
    }

    [Fact]
    public async Task ShutdownMessage_ReachesTheAppBeforeSigint()
    {
        Write("server.js", Pm2Server);
        string config = _home.WriteConfig($$"""
            apps:
              obeys:
                run: node server.js
                cwd: {{Path.Combine(_home.Dir, "project")}}
                env: { PORT: "{{FreePorts.Next()}}", READY_DELAY_MS: "0" }
                ready: { message: ready }
                stop_message: shutdown
                stop_signal: SIGINT
                kill_timeout: 4s
              ignores:
                run: node server.js
                cwd: {{Path.Combine(_home.Dir, "project")}}
                env: { PORT: "{{FreePorts.Next()}}", READY_DELAY_MS: "0", IGNORE_SHUTDOWN: "1" }
                ready: { message: ready }
                stop_message: shutdown
                stop_signal: SIGINT
                kill_timeout: 4s
            """);
        await _home.OkAsync("start", config, "--wait-ready");

        await _home.OkAsync("stop", "obeys");
        await _home.OkAsync("stop", "ignores");

        string obeys = await LogsAsync("obeys");
        Assert.Contains("got message \"shutdown\"", obeys);
        Assert.DoesNotContain("got SIGINT", obeys); // it closed on the message; no signal was needed
        string ignores = await LogsAsync("ignores");
        int message = ignores.IndexOf("got message \"shutdown\"", StringComparison.Ordinal);
        int signal = ignores.IndexOf("got SIGINT", StringComparison.Ordinal);
        Assert.True(message >= 0 && signal > message, "expected the message, then SIGINT:\n" + ignores);
        InstanceInfo[] list = await _home.ListAsync();
        Assert.All(list, i => Assert.Equal("stopped", i.Status));
    }

    [Fact]
    public async Task Pm2ClusterApp_TenReloadsUnderLoad_NoRequestFails()
    {
        Write("server.js", Pm2Server);
        int port = FreePorts.Next();
        string eco = Write("ecosystem.config.js", $$"""
            module.exports = {
              apps: [{
                name: 'web', script: 'server.js', instances: 2, exec_mode: 'cluster',
                wait_ready: true, listen_timeout: 10000, kill_timeout: 5000, shutdown_with_message: true,
                env: { PORT: {{port}}, READY_DELAY_MS: 300 },
              }],
            };
            """);

        CliResult start = await _home.OkAsync("start", eco, "--wait-ready");
        Assert.Contains("web: wait_ready: ready: { message: ready }", start.Stderr);
        using var load = new LoadClient($"http://127.0.0.1:{port}/", clients: 4, keepAlive: false);
        await Eventually.TrueAsync(() => load.Succeeded > 20, "the load client getting answers");

        List<int> before = [.. (await _home.ListAsync()).Select(i => i.Pid ?? 0)];
        for (int r = 0; r < 10; r++)
        {
            CliResult reload = await _home.RunAsync("reload", "web");
            Assert.True(reload.ExitCode == 0, $"reload {r + 1}: {reload}");
        }
        long answered = load.Succeeded;
        await Eventually.TrueAsync(() => load.Succeeded > answered + 20, "answers after the last reload");
        await load.StopAsync();

        InstanceInfo[] after = await _home.ListAsync();
        Assert.Equal(2, after.Count(i => i.Ready));
        Assert.Empty(after.Select(i => i.Pid ?? 0).Intersect(before));
        // Each replaced instance was told to shut down and closed on the message.
        string logs = await LogsAsync("web");
        Assert.Equal(20, logs.Split("shutdown by message").Length - 1);
        Assert.Equal(22, Directory.GetFiles(Path.Combine(_home.Dir, "project"), "sent-ready-*").Length);
    }
}
