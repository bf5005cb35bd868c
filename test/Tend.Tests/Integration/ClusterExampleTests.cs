using System.Net.Sockets;
using Tend.Cluster;
using Tend.Processes;
using Tend.Tests.Support;
using static Tend.Tests.Processes.ProcessTestSupport;

namespace Tend.Tests.Integration;

/// <summary>examples/cluster-aspnet: Kestrel takes the socket Tend opened, by ListenHandle(3).</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class ClusterExampleTests
{
    [Fact]
    public async Task AspNetExample_ListenFds_KestrelServesOnTheDaemonsSocket()
    {
        Assert.True(File.Exists(TestPaths.ClusterDemo), $"{TestPaths.ClusterDemo} is not built");
        using var socket = ListenSocket.Open("127.0.0.1:0", "web");
        var env = new Dictionary<string, string>(BaseEnvironment())
        {
            ["TEND_INSTANCE"] = "1",
            // The runtime directory is <root>/shared/Microsoft.NETCore.App/<version>/.
            ["DOTNET_ROOT"] = Path.GetFullPath(Path.Combine(System.Runtime.InteropServices.RuntimeEnvironment.GetRuntimeDirectory(), "..", "..", "..")),
        };
        var request = new SpawnRequest(TestPaths.ClusterDemo, [], Path.GetDirectoryName(TestPaths.ClusterDemo)!, env)
        {
            ListenFds = [socket.ToListenFd()],
        };
        await using var app = ChildProcess.Start(request);
        _ = ReadAllAsync(app.StandardOutput);
        _ = ReadAllAsync(app.StandardError);

        // No retry loop: the socket listens before the app starts, so the request waits in the backlog
        // until Kestrel accepts it.
        using var http = new HttpClient { Timeout = WaitLimit };
        string body = await http.GetStringAsync($"http://127.0.0.1:{socket.Port}/");

        Assert.Equal($"pid={app.Pid} instance=1\n", body);
        Assert.Equal(new ExitStatus(0, null), await app.StopAsync(Signals.SIGTERM, WaitLimit).WaitAsync(WaitLimit));
    }

    [Fact]
    public async Task NodeExample_ListenFds_ServerListenFd3ServesOnTheDaemonsSocket()
    {
        var env = new Dictionary<string, string>(BaseEnvironment()) { ["TEND_INSTANCE"] = "0" };
        if (!env["PATH"].Split(':').Any(dir => File.Exists(Path.Combine(dir, "node"))))
            return; // no node on this machine: nothing to show
        using var socket = ListenSocket.Open("127.0.0.1:0", "node-web");
        var request = new SpawnRequest("node", ["server.js"], Path.Combine(TestPaths.RepoRoot, "examples", "cluster-node"), env)
        {
            ListenFds = [socket.ToListenFd()],
        };
        await using var app = ChildProcess.Start(request);

        Assert.Equal("instance 0 serving on fd 3", await ReadLineAsync(app.StandardOutput));
        using var http = new HttpClient { Timeout = WaitLimit };
        string body = await http.GetStringAsync($"http://127.0.0.1:{socket.Port}/");

        Assert.Equal($"pid={app.Pid} instance=0\n", body);
        Assert.Equal(new ExitStatus(0, null), await app.StopAsync(Signals.SIGTERM, WaitLimit).WaitAsync(WaitLimit));
    }
}
