using System.Diagnostics;
using Tend.Api;
using Tend.Tests.Support;

namespace Tend.Tests.Integration;

/// <summary>
/// A local user holding thousands of connections to the daemon's TCP port (anyone may connect to
/// 127.0.0.1) once drove it to its fd limit: the control socket stopped answering and the daemon
/// died. Now each listener has its own bounded budget.
/// </summary>
public sealed class ConnectionFloodTests : IAsyncLifetime
{
    private readonly TendHome _home = new();

    public Task InitializeAsync() => Task.CompletedTask;
    public async Task DisposeAsync() => await _home.DisposeAsync();

    [Fact]
    public async Task NobodyHoldsThousandsOfTcpConnections_ControlSocketAnswers_RestartWorks_DaemonLives()
    {
        if (!Environment.IsPrivilegedProcess) return; // needs root to act as a second user
        string config = _home.WriteConfig("apps:\n  web: { run: sleep 600 }\n");
        await _home.OkAsync("start", config);
        PingInfo ping = System.Text.Json.JsonSerializer.Deserialize((await _home.OkAsync("ping", "--json")).Stdout, TendJsonContext.Default.PingInfo)!;
        var url = new Uri(ping.HealthUrl!);
        int daemon = _home.DaemonPid!.Value;

        // As nobody: open 3,000 connections and hold them (python3, its fd limit raised to the hard limit).
        string flood = _home.WriteConfig($$"""
            import resource, socket, sys, time
            soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
            resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 10000), hard))
            held = []
            for i in range(3000):
                try:
                    s = socket.create_connection(("{{url.Host}}", {{url.Port}}), timeout=2)
                    held.append(s)
                except OSError:
                    pass
            print("held", len(held), flush=True)
            time.sleep(60)
            """, "flood.py");
        File.SetUnixFileMode(_home.Dir, (UnixFileMode)0x1ED); // 0755 for a moment: nobody reads flood.py
        var psi = new ProcessStartInfo("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", "/usr/bin/python3", flood])
        {
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        using Process attacker = Process.Start(psi)!;
        try
        {
            string? line = await attacker.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60));
            File.SetUnixFileMode(_home.Dir, (UnixFileMode)0x1C0);
            Assert.StartsWith("held", line);

            // The daemon holds a bounded number of descriptors, whatever the attacker holds.
            Assert.True(ProcFs.IsRunning(daemon), "the daemon died");
            // (Connections over the budget are accepted and closed at once; on a loaded machine a
            // burst of them may be in flight for a moment, so the count is read until it settles.)
            await Eventually.TrueAsync(() => Directory.GetFiles($"/proc/{daemon}/fd").Length < 1000,
                "the daemon's descriptors bounded while the connections are held", TimeSpan.FromSeconds(20));

            // The control socket answers and commands work.
            Assert.Single(await _home.ListAsync());
            await _home.OkAsync("restart", "web");
            await _home.WaitForAsync(l => l.Single() is { Status: "online", Restarts: 1 }, "web restarted during the flood");
        }
        finally
        {
            File.SetUnixFileMode(_home.Dir, (UnixFileMode)0x1C0);
            attacker.Kill(entireProcessTree: true);
            await attacker.WaitForExitAsync();
        }
        Assert.True(ProcFs.IsRunning(daemon));
        Assert.Equal(daemon, _home.DaemonPid);
    }
}
