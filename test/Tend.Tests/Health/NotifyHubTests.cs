using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Text;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Tend.Health;
using Tend.Processes;
using static Tend.Tests.Processes.ProcessTestSupport;

namespace Tend.Tests.Health;

/// <summary>Real sockets, real senders: the test process itself, /bin/sh-free testchild processes.
/// Datagrams on one socket arrive in order, so "the valid one after the bad ones has arrived" proves
/// the bad ones were handled, with no sleeping.</summary>
public sealed partial class NotifyHubTests : IDisposable
{
    private readonly string _dir;
    private readonly CapturingLogger _log = new();
    private readonly NotifyHub _hub;

    public NotifyHubTests()
    {
        // Short and under /tmp: sockaddr_un holds 107 bytes of path.
        _dir = Path.Combine("/tmp", "tn-" + Guid.NewGuid().ToString("N")[..10]);
        _hub = new NotifyHub(_dir, _log);
    }

    public void Dispose()
    {
        _hub.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public void Constructor_MissingDirectory_IsCreatedPrivate()
    {
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute,
            File.GetUnixFileMode(_dir));
    }

    [Fact]
    public async Task Notify_OwnProcess_IsDeliveredAndParsed()
    {
        var inbox = new Inbox();
        using var endpoint = _hub.Register("own", pid => pid == Environment.ProcessId, inbox.Add);

        Send(endpoint.Path, "READY=1\nSTATUS=Serving 3 clients, mode=fast\nlower=skipped\nno assignment here\nWATCHDOG_USEC=5000000\nMAINPID=4242\n");
        NotifyMessage message = await inbox.NextAsync();

        Assert.Equal(Environment.ProcessId, message.SenderPid);
        Assert.True(message.Ready);
        Assert.Equal("Serving 3 clients, mode=fast", message.Status);
        Assert.Equal(TimeSpan.FromSeconds(5), message.WatchdogUsec);
        Assert.Equal(4242, message.MainPid);
        Assert.Equal(["READY", "STATUS", "WATCHDOG_USEC", "MAINPID"], message.Fields.Select(f => f.Key));
        Assert.Equal(endpoint.Path, Path.Combine(_dir, "own.sock"));
        Assert.Equal((1, 0, 0), (endpoint.Accepted, endpoint.Malformed, endpoint.Foreign));
    }

    [Fact]
    public async Task Notify_ForeignSender_IsIgnoredAndCounted()
    {
        var asked = new ConcurrentQueue<int>();
        var inbox = new Inbox();
        using var endpoint = _hub.Register("foreign", pid => { asked.Enqueue(pid); return false; }, inbox.Add);

        Send(endpoint.Path, "READY=1");
        await WaitUntilAsync(() => endpoint.Foreign == 1, "the datagram is counted foreign");

        Assert.Equal([Environment.ProcessId], asked);
        Assert.Equal((0, 0), (endpoint.Accepted, endpoint.Malformed));
        Assert.Equal(0, inbox.Count);
    }

    [Fact]
    public async Task Notify_TrustCheckThrows_IsForeignAndLogged()
    {
        var inbox = new Inbox();
        using var endpoint = _hub.Register("trustboom", _ => throw new InvalidOperationException("boom"), inbox.Add);

        Send(endpoint.Path, "READY=1");
        await WaitUntilAsync(() => endpoint.Foreign == 1, "the datagram is counted foreign");

        Assert.Equal(0, inbox.Count);
        Assert.Contains(_log.Entries, e => e.EventId == 5003 && e.Exception is InvalidOperationException);
    }

    [Fact]
    public async Task Notify_FromChildProcess_IsAttributedToTheChild()
    {
        var inbox = new Inbox();
        using var endpoint = _hub.Register("child", _ => true, inbox.Add);

        await using var child = ChildProcess.Start(NotifyingChild(endpoint, "--notify-send", @"READY=1\nSTATUS=from child"));
        NotifyMessage message = await inbox.NextAsync();

        Assert.Equal(child.Pid, message.SenderPid);
        Assert.True(message.Ready);
        Assert.Equal("from child", message.Status);
        // What an instance's trust check relies on: the sender leads the group named by the main pid.
        Assert.Equal(child.Pid, ProcStat.ReadProcessGroup(message.SenderPid));
    }

    [Fact]
    public async Task Notify_Malformed_IsCountedAndDropped()
    {
        var inbox = new Inbox();
        using var endpoint = _hub.Register("bad", pid => pid == Environment.ProcessId, inbox.Add);

        Send(endpoint.Path, []);                                               // empty
        Send(endpoint.Path, [0xff, 0xfe, (byte)'=', (byte)'1']);              // not UTF-8
        Send(endpoint.Path, "hello world");                                    // no '='
        Send(endpoint.Path, "lower=1\n=1\nREADY 1");                           // no valid key
        Send(endpoint.Path, "READY=1\0STATUS=x");                              // NUL
        Send(endpoint.Path, "STATUS=" + new string('x', NotifyHub.MaxDatagram)); // truncated
        Send(endpoint.Path, "STATUS=" + new string('y', NotifyHub.MaxDatagram - 7)); // exactly 4096: fine
        NotifyMessage message = await inbox.NextAsync();

        Assert.Equal(NotifyHub.MaxDatagram - 7, message.Status?.Length);
        Assert.Equal((1, 6, 0), (endpoint.Accepted, endpoint.Malformed, endpoint.Foreign));
        Assert.Equal(0, inbox.Count);
        Assert.Contains(_log.Entries, e => e.EventId == 5002 && e.Level == LogLevel.Information);
    }

    [Fact]
    public async Task Notify_AttachedDescriptors_AreNeverInstalledInTheDaemon()
    {
        var inbox = new Inbox();
        using var endpoint = _hub.Register("fds", _ => true, inbox.Add);
        string marker = Path.Combine(_dir, "marker");
        File.WriteAllText(marker, "");

        using (var a = File.OpenHandle(marker))
        using (var b = File.OpenHandle(marker))
        {
            SendWithDescriptors(endpoint.Path, "FDSTORE=1\nREADY=1", (int)a.DangerousGetHandle(), (int)b.DangerousGetHandle());
        }
        Assert.True((await inbox.NextAsync()).Ready);

        // Ours are closed: any descriptor still open on the marker would be one the hub received.
        Assert.DoesNotContain(Directory.EnumerateFileSystemEntries("/proc/self/fd"), fd => LinkTarget(fd) == marker);
    }

    [Fact]
    public async Task Register_HundredEndpoints_EachGetsItsOwnMessage()
    {
        var received = Channel.CreateUnbounded<(int Index, NotifyMessage Message)>();
        var endpoints = new List<NotifyEndpoint>();
        try
        {
            for (int i = 0; i < 100; i++)
            {
                int index = i;
                endpoints.Add(_hub.Register($"app-{i}", _ => true, m => received.Writer.TryWrite((index, m))));
            }
            for (int i = 0; i < 100; i++) Send(endpoints[i].Path, $"STATUS={i}");

            var statuses = new Dictionary<int, string?>();
            while (statuses.Count < 100)
            {
                var (index, message) = await received.Reader.ReadAsync().AsTask().WaitAsync(WaitLimit);
                Assert.True(statuses.TryAdd(index, message.Status), $"endpoint {index} got two messages");
            }

            Assert.All(statuses, s => Assert.Equal(s.Key.ToString(), s.Value));
            Assert.All(endpoints, e => Assert.Equal(1, e.Accepted));
            // The process's one epoll thread serves them all, with the pidfds and the log pipes.
            Assert.Equal(1, ThreadsNamed("Tend io"));
        }
        finally
        {
            foreach (var endpoint in endpoints) endpoint.Dispose();
        }
        Assert.All(endpoints, e => Assert.False(File.Exists(e.Path)));
        Assert.Empty(Directory.EnumerateFileSystemEntries(_dir));
    }

    [Fact]
    public void Dispose_Endpoint_RemovesSocketAndRefusesSenders()
    {
        var endpoint = _hub.Register("gone", _ => true, _ => { });
        Assert.True(File.Exists(endpoint.Path));

        endpoint.Dispose();
        endpoint.Dispose();

        Assert.False(File.Exists(endpoint.Path));
        Assert.Throws<SocketException>(() => Send(endpoint.Path, "READY=1"));
    }

    [Fact]
    public async Task Dispose_EndpointFromItsOwnCallback_OthersKeepWorking()
    {
        var inbox = new Inbox();
        NotifyEndpoint? self = null;
        var selfDisposed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        self = _hub.Register("selfish", _ => true, _ => { self!.Dispose(); selfDisposed.SetResult(); });
        using var other = _hub.Register("other", _ => true, inbox.Add);

        Send(self.Path, "READY=1");
        await selfDisposed.Task.WaitAsync(WaitLimit);
        Send(other.Path, "READY=1");

        Assert.True((await inbox.NextAsync()).Ready);
        Assert.False(File.Exists(self.Path));
    }

    [Fact]
    public async Task Notify_HandlerThrows_IsLoggedAndHubKeepsWorking()
    {
        var inbox = new Inbox();
        int calls = 0;
        using var endpoint = _hub.Register("throws", _ => true, m =>
        {
            if (Interlocked.Increment(ref calls) == 1) throw new InvalidOperationException("handler bug");
            inbox.Add(m);
        });

        Send(endpoint.Path, "STATUS=first");
        Send(endpoint.Path, "STATUS=second");

        Assert.Equal("second", (await inbox.NextAsync()).Status);
        Assert.Equal(2, endpoint.Accepted);
        Assert.Contains(_log.Entries, e => e.EventId == 5003 && e.Exception?.Message == "handler bug");
    }

    [Fact]
    public void Register_PathTooLong_ThrowsClearly()
    {
        var e = Assert.Throws<PathTooLongException>(() => _hub.Register(new string('n', 110), _ => true, _ => { }));
        Assert.Contains("107", e.Message);
    }

    [Theory]
    [InlineData("a/b")]
    [InlineData("..")]
    public void Register_NameNotAFileName_Throws(string name)
    {
        Assert.Throws<ArgumentException>(() => _hub.Register(name, _ => true, _ => { }));
    }

    [Fact]
    public void Register_SameNameTwice_Throws()
    {
        using var first = _hub.Register("twice", _ => true, _ => { });
        Assert.Throws<InvalidOperationException>(() => _hub.Register("twice", _ => true, _ => { }));
        Assert.True(File.Exists(first.Path));
    }

    [Fact]
    public async Task Register_StaleSocketFile_IsReplaced()
    {
        File.WriteAllText(Path.Combine(_dir, "stale.sock"), "left by a crashed daemon");
        var inbox = new Inbox();
        using var endpoint = _hub.Register("stale", _ => true, inbox.Add);

        Send(endpoint.Path, "READY=1");

        Assert.True((await inbox.NextAsync()).Ready);
    }

    [Fact]
    public void Dispose_Hub_RemovesEverySocketAndRefusesRegistration()
    {
        string dir = Path.Combine("/tmp", "tn-" + Guid.NewGuid().ToString("N")[..10]);
        try
        {
            var hub = new NotifyHub(dir, _log);
            var a = hub.Register("a", _ => true, _ => { });
            var b = hub.Register("b", _ => true, _ => { });

            hub.Dispose();

            Assert.False(File.Exists(a.Path));
            Assert.False(File.Exists(b.Path));
            Assert.Throws<ObjectDisposedException>(() => hub.Register("c", _ => true, _ => { }));
            a.Dispose();
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task TestChild_NotifyReadyAfter_SendsReadyFromItsPid()
    {
        var inbox = new Inbox();
        using var endpoint = _hub.Register("ready", _ => true, inbox.Add);

        await using var child = ChildProcess.Start(NotifyingChild(endpoint, "--notify-ready-after", "200"));
        NotifyMessage message = await inbox.NextAsync();

        Assert.True(message.Ready);
        Assert.Equal(child.Pid, message.SenderPid);
    }

    [Fact]
    public async Task TestChild_NotifyWatchdog_SendsPingsUntilStopAfter()
    {
        var inbox = new Inbox();
        using var endpoint = _hub.Register("dog", _ => true, inbox.Add);

        await using var child = ChildProcess.Start(NotifyingChild(endpoint,
            "--notify-watchdog", "20", "--notify-watchdog-stop-after", "60000"));

        Assert.True((await inbox.NextAsync()).Watchdog);
        Assert.True((await inbox.NextAsync()).Watchdog);
    }

    [Fact]
    public async Task TestChild_NotifyWatchdogStopAfterZero_NeverPings()
    {
        var inbox = new Inbox();
        using var endpoint = _hub.Register("hung", _ => true, inbox.Add);

        await using var child = ChildProcess.Start(NotifyingChild(endpoint,
            "--notify-watchdog", "20", "--notify-watchdog-stop-after", "0", "--notify-ready-after", "300"));

        // A correct child sends READY alone; a broken one would have pinged long before it.
        NotifyMessage first = await inbox.NextAsync();
        Assert.True(first.Ready);
        Assert.False(first.Watchdog);
    }

    [Fact]
    public async Task TestChild_NotifyStoppingOnTerm_SendsStoppingAndExitsZero()
    {
        var inbox = new Inbox();
        using var endpoint = _hub.Register("stop", _ => true, inbox.Add);

        await using var child = ChildProcess.Start(NotifyingChild(endpoint, "--notify-status", "up", "--notify-stopping-on-term"));
        // STATUS is sent after the SIGTERM handler is in place: the handshake.
        Assert.Equal("up", (await inbox.NextAsync()).Status);
        child.Signal(Signals.SIGTERM);

        Assert.True((await inbox.NextAsync()).Stopping);
        Assert.Equal(0, (await child.Exited.WaitAsync(WaitLimit)).Code);
    }

    [Fact]
    public void Message_Flags_AreReadLikeSystemd()
    {
        var message = Message(("STOPPING", "1"), ("RELOADING", "1"), ("WATCHDOG", "trigger"), ("READY", "0"));

        Assert.True(message.Stopping);
        Assert.True(message.Reloading);
        Assert.True(message.WatchdogTrigger);
        Assert.False(message.Watchdog);
        Assert.False(message.Ready);
        Assert.Null(message.Status);
    }

    [Fact]
    public void Message_NumbersThatDoNotParse_AreIgnored()
    {
        var message = Message(("EXTEND_TIMEOUT_USEC", "99999999999999999999"), ("WATCHDOG_USEC", "-5"), ("MAINPID", "0"), ("STATUS", ""));

        Assert.Null(message.ExtendTimeout);
        Assert.Null(message.WatchdogUsec);
        Assert.Null(message.MainPid);
        Assert.Equal("", message.Status);
        Assert.Equal(TimeSpan.FromMilliseconds(1.5), Message(("EXTEND_TIMEOUT_USEC", "1500")).ExtendTimeout);
    }

    /// <summary>Threads of this process by name (the runtime passes managed thread names to the kernel).</summary>
    private static int ThreadsNamed(string name) =>
        Directory.EnumerateDirectories("/proc/self/task").Count(task =>
        {
            try { return File.ReadAllText(Path.Combine(task, "comm")).TrimEnd('\n') == name; }
            catch (IOException) { return false; }
        });

    private static NotifyMessage Message(params (string Key, string Value)[] fields) =>
        new(1234, [.. fields.Select(f => KeyValuePair.Create(f.Key, f.Value))]);

    private static SpawnRequest NotifyingChild(NotifyEndpoint endpoint, params string[] args)
    {
        var env = new Dictionary<string, string>(BaseEnvironment()) { ["NOTIFY_SOCKET"] = endpoint.Path };
        return new SpawnRequest(TestChildPath, args, Path.GetTempPath(), env);
    }

    private static void Send(string path, string payload) => Send(path, Encoding.UTF8.GetBytes(payload));

    private static void Send(string path, byte[] payload)
    {
        using var socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        socket.SendTo(payload, new UnixDomainSocketEndPoint(path));
    }

    /// <summary>sendmsg with SCM_RIGHTS, which System.Net.Sockets cannot do: what an app sending FDSTORE=1 does.</summary>
    private static unsafe void SendWithDescriptors(string path, string payload, params int[] fds)
    {
        using var socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        socket.Connect(new UnixDomainSocketEndPoint(path));
        byte[] bytes = Encoding.UTF8.GetBytes(payload);
        int dataLength = fds.Length * sizeof(int);
        int controlLength = Interop.Sys.CMsgSpace(dataLength);
        ulong* control = stackalloc ulong[(controlLength + 7) / 8];
        var header = (Interop.Sys.CMsgHdr*)control;
        header->Len = (nuint)(Interop.Sys.CMsgAlign(sizeof(Interop.Sys.CMsgHdr)) + dataLength);
        header->Level = Interop.Sys.SOL_SOCKET;
        header->Type = Interop.Sys.SCM_RIGHTS;
        fds.CopyTo(new Span<int>((byte*)control + Interop.Sys.CMsgAlign(sizeof(Interop.Sys.CMsgHdr)), fds.Length));
        fixed (byte* data = bytes)
        {
            var iov = new Interop.Sys.IoVec { Base = data, Len = (nuint)bytes.Length };
            var msg = new Interop.Sys.MsgHdr { Iov = &iov, IovLen = 1, Control = control, ControlLen = (nuint)controlLength };
            Assert.Equal(bytes.Length, (int)Native.sendmsg((int)socket.Handle, &msg, 0));
        }
    }

    private static string? LinkTarget(string path)
    {
        try { return new FileInfo(path).LinkTarget; }
        catch (IOException) { return null; }
    }

    private static unsafe partial class Native
    {
        [System.Runtime.InteropServices.LibraryImport("libc", SetLastError = true)]
        internal static partial nint sendmsg(int fd, Interop.Sys.MsgHdr* msg, int flags);
    }

    /// <summary>Messages as the hub delivers them, awaited with a bound.</summary>
    private sealed class Inbox
    {
        private readonly Channel<NotifyMessage> _channel = Channel.CreateUnbounded<NotifyMessage>();

        public void Add(NotifyMessage message) => _channel.Writer.TryWrite(message);

        public int Count => _channel.Reader.Count;

        public async Task<NotifyMessage> NextAsync() => await _channel.Reader.ReadAsync().AsTask().WaitAsync(WaitLimit);
    }

    private sealed record LogEntry(LogLevel Level, int EventId, string Message, Exception? Exception);

    private sealed class CapturingLogger : ILogger
    {
        private readonly ConcurrentQueue<LogEntry> _entries = new();

        public IReadOnlyCollection<LogEntry> Entries => _entries;

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            _entries.Enqueue(new LogEntry(logLevel, eventId.Id, formatter(state, exception), exception));
    }
}
