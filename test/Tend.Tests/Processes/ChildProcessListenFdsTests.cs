using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Tend.Cluster;
using Tend.Processes;
using static Tend.Tests.Processes.ProcessTestSupport;

namespace Tend.Tests.Processes;

/// <summary>Socket activation at spawn: listening sockets at fds 3.., LISTEN_* in the environment.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class ChildProcessListenFdsTests
{
    [Fact]
    public async Task Spawn_ListenFds_ChildServesOnFd3WithItsOwnPid()
    {
        using var socket = ListenSocket.Open("127.0.0.1:0", "web");
        await using var child = ChildProcess.Start(Serve(socket));

        string? banner = await ReadLineAsync(child.StandardOutput);
        using var http = new HttpClient { Timeout = WaitLimit };
        string body = await http.GetStringAsync($"http://127.0.0.1:{socket.Port}/");

        Assert.Equal($"serving fd 3 pid={child.Pid} LISTEN_FDS=1 LISTEN_PID={child.Pid} LISTEN_FDNAMES=web", banner);
        Assert.Equal($"pid={child.Pid} instance=0\n", body);
    }

    [Fact]
    public async Task Spawn_ListenFds_Fd3IsTheSocketAndNothingElseLeaks()
    {
        using var socket = ListenSocket.Open("127.0.0.1:0", "web");
        await using var child = ChildProcess.Start(Command("/bin/sleep", "30") with { ListenFds = [socket.ToListenFd()] });

        await WaitUntilExecutedAsync(child.Pid, "/bin/sleep");

        string[] fds = Directory.GetFiles($"/proc/{child.Pid}/fd").Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray()!;
        Assert.Equal(["0", "1", "2", "3"], fds);
        Assert.StartsWith("socket:[", FdLink(child.Pid, 3));
        Assert.Equal(LinkOf(Environment.ProcessId, socket), FdLink(child.Pid, 3));
    }

    [Fact]
    public async Task Spawn_TwoListenFds_ArriveInOrderWithExactlyTheRequestedEnvironment()
    {
        using var first = ListenSocket.Open("127.0.0.1:0", "http");
        using var second = ListenSocket.Open("127.0.0.1:0", "admin");
        var env = new Dictionary<string, string>(BaseEnvironment())
        {
            // A shell would drop the first (not an identifier) and the wrapper must not add PWD.
            ["dotted.name"] = "kept",
            ["WITH_SPACES"] = "a  b 'c' \"d\" $HOME",
            ["LISTEN_PID"] = "1", // replaced
        };
        var request = Command("/bin/sleep", "30") with { Environment = env, ListenFds = [first.ToListenFd(), second.ToListenFd()] };
        await using var child = ChildProcess.Start(request);

        await WaitUntilExecutedAsync(child.Pid, "/bin/sleep");

        Assert.Equal(LinkOf(Environment.ProcessId, first), FdLink(child.Pid, 3));
        Assert.Equal(LinkOf(Environment.ProcessId, second), FdLink(child.Pid, 4));
        Assert.False(File.Exists($"/proc/{child.Pid}/fd/5"));
        var expected = new Dictionary<string, string>(env)
        {
            ["LISTEN_PID"] = child.Pid.ToString(CultureInfo.InvariantCulture),
            ["LISTEN_FDS"] = "2",
            ["LISTEN_FDNAMES"] = "http:admin",
        };
        Assert.Equal(expected.OrderBy(e => e.Key, StringComparer.Ordinal), ReadEnviron(child.Pid).OrderBy(e => e.Key, StringComparer.Ordinal));
        Assert.Equal(["/bin/sleep", "30"], File.ReadAllText($"/proc/{child.Pid}/cmdline").TrimEnd('\0').Split('\0'));
    }

    /// <summary>
    /// The prelude's shell execs the program itself when it can pass the variables on untouched (dash,
    /// identifiers only); these cases hold on either path: PWD as requested (not the shell's directory)
    /// or absent, and the names dash resets (IFS, OPTIND, PPID) as requested too.
    /// </summary>
    [Theory]
    [InlineData("PWD=/somewhere/else")]
    [InlineData("")]
    [InlineData("IFS=:")]
    [InlineData("OPTIND=7", "PPID=3")]
    [InlineData("PWD=/with space", "_=underscore", "lower_case9=x")]
    public async Task Spawn_ThroughThePrelude_TheProgramGetsExactlyTheRequestedEnvironment(params string[] extra)
    {
        using var socket = ListenSocket.Open("127.0.0.1:0", "web");
        var env = new Dictionary<string, string>(BaseEnvironment()) { ["QUOTED"] = "a  b 'c' \"d\" $HOME `x` \\n" };
        foreach (string pair in extra.Where(p => p.Length > 0)) env[pair[..pair.IndexOf('=')]] = pair[(pair.IndexOf('=') + 1)..];
        await using var child = ChildProcess.Start(Command("/bin/sleep", "30") with { Environment = env, ListenFds = [socket.ToListenFd()] });

        await WaitUntilExecutedAsync(child.Pid, "/bin/sleep");

        var expected = new Dictionary<string, string>(env)
        {
            ["LISTEN_PID"] = child.Pid.ToString(CultureInfo.InvariantCulture),
            ["LISTEN_FDS"] = "1",
            ["LISTEN_FDNAMES"] = "web",
        };
        Assert.Equal(expected.OrderBy(e => e.Key, StringComparer.Ordinal), ReadEnviron(child.Pid).OrderBy(e => e.Key, StringComparer.Ordinal));
        Assert.Equal(["/bin/sleep", "30"], File.ReadAllText($"/proc/{child.Pid}/cmdline").TrimEnd('\0').Split('\0'));
    }

    [Fact]
    public async Task Spawn_NodeChannel_AfterTheListenFds_NamedByNodeChannelFd()
    {
        using var socket = ListenSocket.Open("127.0.0.1:0", "web");
        var env = new Dictionary<string, string>(BaseEnvironment()) { ["NODE_CHANNEL_FD"] = "9" }; // replaced
        await using var child = ChildProcess.Start(Command("/bin/sleep", "30") with { Environment = env, ListenFds = [socket.ToListenFd()], Channel = SpawnChannel.Node });

        await WaitUntilExecutedAsync(child.Pid, "/bin/sleep");

        Assert.Equal(LinkOf(Environment.ProcessId, socket), FdLink(child.Pid, 3));
        Assert.StartsWith("socket:[", FdLink(child.Pid, 4));
        Assert.False(File.Exists($"/proc/{child.Pid}/fd/5"));
        var environ = ReadEnviron(child.Pid);
        Assert.Equal("4", environ["NODE_CHANNEL_FD"]);
        Assert.Equal("json", environ["NODE_CHANNEL_SERIALIZATION_MODE"]);
        Assert.NotNull(child.Channel);
        Assert.False(child.Channel.IsInvalid);
    }

    [Fact]
    public async Task Spawn_ListenFds_TwoChildrenBothAcceptOnTheSameSocket()
    {
        using var socket = ListenSocket.Open("127.0.0.1:0", "web");
        await using var a = ChildProcess.Start(Serve(socket));
        await using var b = ChildProcess.Start(Serve(socket));
        await ReadLineAsync(a.StandardOutput);
        await ReadLineAsync(b.StandardOutput);

        // Whoever answers first is then stopped (SIGSTOP), so the next connection can only be
        // accepted by the other: both took connections from the one socket, without relying on how
        // the kernel happens to spread them.
        int firstPid = ParsePid(await GetAsync(socket.LocalEndPoint));
        ChildProcess first = firstPid == a.Pid ? a : b, other = firstPid == a.Pid ? b : a;
        Assert.True(first.Signal(Signals.SIGSTOP));
        await WaitUntilAsync(() => StatField(first.Pid, 3) == "T", "the first server is stopped");

        int secondPid = ParsePid(await GetAsync(socket.LocalEndPoint));

        Assert.Equal(other.Pid, secondPid);
        first.Signal(Signals.SIGCONT);
    }

    [Fact]
    public async Task Spawn_ListenFds_ConnectionWaitsInBacklogWhileNoChildRuns()
    {
        using var socket = ListenSocket.Open("127.0.0.1:0", "web");
        await using (var old = ChildProcess.Start(Serve(socket)))
        {
            await ReadLineAsync(old.StandardOutput);
            Assert.Equal(old.Pid, ParsePid(await GetAsync(socket.LocalEndPoint)));
            Assert.True((await old.StopAsync(Signals.SIGTERM, WaitLimit).WaitAsync(WaitLimit)).IsSuccess);
        }

        // No server process now, yet the connection is accepted (by the kernel, into the backlog of
        // the socket the daemon still holds): this is why a restart refuses no connection.
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(socket.LocalEndPoint).WaitAsync(WaitLimit);
        await client.SendAsync(Encoding.ASCII.GetBytes("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));

        await using var replacement = ChildProcess.Start(Serve(socket));
        string response = await ReadToEndAsync(client);

        Assert.Equal(replacement.Pid, ParsePid(response));
    }

    [Fact]
    public async Task Spawn_ListenFds_SigtermClosesTheListenerAndAnswersTheNextRequestWithClose()
    {
        using var socket = ListenSocket.Open("127.0.0.1:0", "web");
        await using var child = ChildProcess.Start(Serve(socket, "--drain-idle", "60s"));
        await ReadLineAsync(child.StandardOutput);
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(socket.LocalEndPoint).WaitAsync(WaitLimit);
        byte[] get = Encoding.ASCII.GetBytes("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        await client.SendAsync(get);
        Assert.Contains("Connection: keep-alive", await ReadResponseAsync(client));

        Assert.True(child.Signal(Signals.SIGTERM));
        await WaitUntilAsync(() => !File.Exists($"/proc/{child.Pid}/fd/3"), "the child closed its listening fd");
        await client.SendAsync(get);
        string last = await ReadToEndAsync(client);

        Assert.Contains("Connection: close", last);
        Assert.Equal(child.Pid, ParsePid(last));
        Assert.Equal(new ExitStatus(0, null), await child.Exited.WaitAsync(WaitLimit));
    }

    [Fact]
    public async Task Spawn_ListenFds_UnixSocketPathIsServed()
    {
        string dir = CreateTempDirectory();
        try
        {
            using var socket = ListenSocket.Open(Path.Combine(dir, "app.sock"), "web");
            await using var child = ChildProcess.Start(Serve(socket));

            string response = await GetAsync(new UnixDomainSocketEndPoint(Path.Combine(dir, "app.sock")));

            Assert.Equal(child.Pid, ParsePid(response));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Spawn_ListenFds_MissingExecutable_ThrowsSpawnException()
    {
        using var socket = ListenSocket.Open("127.0.0.1:0", "web");

        var e = Assert.Throws<SpawnException>(() =>
            ChildProcess.Start(Command("no-such-program-tend", "x") with { ListenFds = [socket.ToListenFd()] }));

        Assert.Equal(Interop.Sys.ENOENT, e.Errno);
        Assert.Equal("no-such-program-tend", e.FileName);
    }

    [Fact]
    public void Spawn_ListenFds_NameWithColon_IsRejected()
    {
        using var socket = ListenSocket.Open("127.0.0.1:0", "web");

        Assert.Throws<ArgumentException>(() =>
            ChildProcess.Start(Command("/bin/true") with { ListenFds = [new ListenFd(socket.Handle, "a:b")] }));
    }

    [Fact]
    public async Task Spawn_WithoutListenFds_TestchildServeFd3RefusesToStart()
    {
        await using var child = ChildProcess.Start(TestChild("--serve-fd3"));

        Task<string> stderr = ReadAllAsync(child.StandardError);

        Assert.Equal(new ExitStatus(3, null), await child.Exited.WaitAsync(WaitLimit));
        Assert.Contains("needs socket activation", await stderr);
    }

    private static SpawnRequest Serve(ListenSocket socket, params string[] extra)
    {
        var env = new Dictionary<string, string>(BaseEnvironment()) { ["TEND_INSTANCE"] = "0" };
        return TestChild(["--serve-fd3", .. extra]) with { Environment = env, ListenFds = [socket.ToListenFd()] };
    }

    /// <summary>One GET on a fresh connection ("Connection: close"); the whole response.</summary>
    private static async Task<string> GetAsync(EndPoint endPoint)
    {
        using var client = new Socket(endPoint.AddressFamily, SocketType.Stream, endPoint is UnixDomainSocketEndPoint ? ProtocolType.Unspecified : ProtocolType.Tcp);
        await client.ConnectAsync(endPoint).WaitAsync(WaitLimit);
        await client.SendAsync(Encoding.ASCII.GetBytes("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
        return await ReadToEndAsync(client);
    }

    private static async Task<string> ReadToEndAsync(Socket client)
    {
        var all = new MemoryStream();
        var buffer = new byte[4096];
        int n;
        while ((n = await client.ReceiveAsync(buffer.AsMemory()).AsTask().WaitAsync(WaitLimit)) > 0) all.Write(buffer, 0, n);
        return Encoding.ASCII.GetString(all.ToArray());
    }

    /// <summary>One keep-alive response: headers, then Content-Length bytes of body.</summary>
    private static async Task<string> ReadResponseAsync(Socket client)
    {
        var text = new StringBuilder();
        var buffer = new byte[4096];
        while (true)
        {
            string s = text.ToString();
            int end = s.IndexOf("\r\n\r\n", StringComparison.Ordinal);
            if (end >= 0)
            {
                string lengthLine = s[..end].Split("\r\n").Single(l => l.StartsWith("Content-Length:", StringComparison.Ordinal));
                int length = int.Parse(lengthLine["Content-Length:".Length..].Trim(), CultureInfo.InvariantCulture);
                if (s.Length >= end + 4 + length) return s;
            }
            int n = await client.ReceiveAsync(buffer.AsMemory()).AsTask().WaitAsync(WaitLimit);
            Assert.NotEqual(0, n);
            text.Append(Encoding.ASCII.GetString(buffer, 0, n));
        }
    }

    private static int ParsePid(string response)
    {
        int at = response.IndexOf("pid=", StringComparison.Ordinal);
        Assert.True(at >= 0, $"no pid in response: {response}");
        string digits = new(response[(at + 4)..].TakeWhile(char.IsAsciiDigit).ToArray());
        return int.Parse(digits, CultureInfo.InvariantCulture);
    }

    /// <summary>"socket:[inode]" of our copy: the same text in the child means the same socket.</summary>
    private static string? LinkOf(int pid, ListenSocket socket) => FdLink(pid, (int)socket.Handle.DangerousGetHandle());

    private static string? FdLink(int pid, int fd) => new FileInfo($"/proc/{pid}/fd/{fd}").LinkTarget;

    /// <summary>The wrapper (sh, then env) runs under the child's pid first; waits for the real program.</summary>
    private static Task WaitUntilExecutedAsync(int pid, string argv0) =>
        WaitUntilAsync(() =>
        {
            try
            {
                // Run it, and asleep: right after exec, sleep(1) opens the locale archive for a moment,
                // which takes the next free descriptor; a look then would see a "leak" that is not one.
                return File.ReadAllText($"/proc/{pid}/cmdline").Split('\0')[0] == argv0
                    && File.ReadAllText($"/proc/{pid}/stat").Split(") ")[1].StartsWith('S');
            }
            catch (IOException)
            {
                return false;
            }
        }, $"pid {pid} runs {argv0}");

    private static Dictionary<string, string> ReadEnviron(int pid) =>
        File.ReadAllText($"/proc/{pid}/environ").Split('\0', StringSplitOptions.RemoveEmptyEntries)
            .Select(e => e.Split('=', 2))
            .ToDictionary(p => p[0], p => p[1]);
}
