// testchild: the program Tend's tests supervise. Options combine; they run in this order:
//   --stamp FILE        append "<unix-ms> start <pid>" to FILE (and "<unix-ms> term <pid>" on SIGTERM)
//   --pidfile FILE      write our pid to FILE
//   --print-env         print every environment variable as NAME=value, sorted
//   --echo TEXT         print TEXT on stdout;  --echo-err TEXT  on stderr
//   --ignore-term       ignore SIGTERM (and SIGINT)
//   --grandchild FILE   start a copy of ourselves (--sleep) in our process group, write its pid to FILE
//   --alloc MB          allocate and touch MB mebibytes, and keep them
//   --churn             keep the runtime busy from background threads: allocate garbage, throw and
//                       catch exceptions, and contend for a lock, every few milliseconds (so .NET
//                       runtime counters have something to count)
//   --spew N            write N lines of 100 bytes to stdout, one write(2) per line
//   --block             with --spew: write in 64 KiB blocks instead
//   --partial TEXT      write TEXT with no newline (a partial last line)
//   --exit-after DUR    exit after DUR (e.g. 200ms, 2s); default: run until signalled
//   --exit-code N       the exit code when exiting on our own (default 0)
//   --crash             with --exit-after: kill ourselves with SIGSEGV instead of exiting
//   --once FILE         with --exit-after: exit only if FILE does not exist yet (and create it);
//                       later runs sleep instead, so a child fails exactly once
// Notify modes send sd_notify datagrams to $NOTIFY_SOCKET (nothing happens if it is unset):
//   --notify-status TEXT            send STATUS=TEXT at start
//   --notify-send TEXT              send TEXT verbatim at start, "\n" meaning a newline (RELOADING=1, …)
//   --notify-ready-after DUR        send READY=1 after DUR, then carry on as the other options say
//   --notify-watchdog DUR           send WATCHDOG=1 every DUR, from a background thread
//   --notify-watchdog-stop-after DUR  stop those pings after DUR (a hang, as the daemon sees it)
//   --notify-stopping-on-term       on SIGTERM send STOPPING=1, then exit 0
// Serve modes (started before the notify ones, so READY=1 comes after the server accepts) answer
// every HTTP/1.1 request with 200 "pid=<pid> instance=<TEND_INSTANCE>\n", keep-alive supported, and
// print one "serving …" line on stdout once accepting. On SIGTERM they stop accepting, answer each
// open connection's next request with "Connection: close", close connections idle for the grace,
// and exit 0 when none is left:
//   --serve-fd3         serve on fd 3, taken by socket activation; exit 3 unless LISTEN_PID is our pid
//                       and LISTEN_FDS >= 1
//   --serve-port PORT   serve on our own 127.0.0.1:PORT; "env" means $PORT, 0 a free port
//   --drain-idle DUR    the idle grace after SIGTERM (default 1s)
using System.Diagnostics;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using Tend.TestChild;

var opts = new Dictionary<string, string?>();
for (int i = 0; i < args.Length; i++)
{
    string a = args[i];
    bool isFlag = a is "--print-env" or "--ignore-term" or "--block" or "--crash" or "--sleep" or "--notify-stopping-on-term"
        or "--serve-fd3" or "--churn";
    opts[a] = isFlag ? null : (i + 1 < args.Length ? args[++i] : "");
}

string? Get(string key) => opts.TryGetValue(key, out var v) ? v : null;
bool Has(string key) => opts.ContainsKey(key);
int pid = Environment.ProcessId;
var stdout = Console.OpenStandardOutput();

void Stamp(string what)
{
    if (Get("--stamp") is not { } f) return;
    // Instances share one stamp file and are often stopped together. File.AppendAllText seeks to
    // the end and then writes, so two of them could write at the same offset and lose a line; one
    // write(2) on an O_APPEND descriptor cannot.
    byte[] line = Encoding.UTF8.GetBytes(
        $"{DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()} {what} {pid} {Environment.GetEnvironmentVariable("TEND_APP")}#{Environment.GetEnvironmentVariable("TEND_INSTANCE")}\n");
    int fd = open(f, 0x1 | 0x40 | 0x400, 0x1A4); // O_WRONLY | O_CREAT | O_APPEND, 0644
    if (fd < 0) throw new IOException($"open {f}: errno {Marshal.GetLastPInvokeError()}");
    try
    {
        if (write(fd, line, line.Length) != line.Length) throw new IOException($"write {f}: errno {Marshal.GetLastPInvokeError()}");
    }
    finally { close(fd); }
}

HttpServer? server = null;

Stamp("start");
if (Get("--pidfile") is { } pidfile) File.WriteAllText(pidfile, pid.ToString());

using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, ctx =>
{
    Stamp("term");
    if (Has("--ignore-term")) ctx.Cancel = true;
    else if (Has("--notify-stopping-on-term"))
    {
        Notify("STOPPING=1");
        ctx.Cancel = true;
        Environment.Exit(0);
    }
    else if (server is not null)
    {
        ctx.Cancel = true;
        server.Stop(Get("--drain-idle") is { } grace ? ParseDuration(grace) : TimeSpan.FromSeconds(1));
    }
});
using var intr = PosixSignalRegistration.Create(PosixSignal.SIGINT, ctx =>
{
    if (Has("--ignore-term")) ctx.Cancel = true;
});

if (Has("--print-env"))
{
    var sb = new StringBuilder();
    foreach (var entry in Environment.GetEnvironmentVariables().Cast<System.Collections.DictionaryEntry>().OrderBy(e => (string)e.Key, StringComparer.Ordinal))
        sb.Append(entry.Key).Append('=').Append(entry.Value).Append('\n');
    Write(sb.ToString());
}
if (Get("--echo") is { } echo) Write(echo + "\n");
if (Get("--echo-err") is { } echoErr) { var e = Encoding.UTF8.GetBytes(echoErr + "\n"); Console.OpenStandardError().Write(e); }

if (Has("--serve-fd3"))
{
    string? fds = Environment.GetEnvironmentVariable("LISTEN_FDS");
    string? listenPid = Environment.GetEnvironmentVariable("LISTEN_PID");
    if (listenPid != pid.ToString() || !int.TryParse(fds, out int fdCount) || fdCount < 1)
    {
        Console.Error.WriteLine($"testchild: --serve-fd3 needs socket activation, got LISTEN_FDS={fds} LISTEN_PID={listenPid} (our pid is {pid})");
        return 3;
    }
    server = new HttpServer(new Socket(new SafeSocketHandle(3, ownsHandle: true)), pid, Environment.GetEnvironmentVariable("TEND_INSTANCE"));
    server.Start();
    Write($"serving fd 3 pid={pid} LISTEN_FDS={fds} LISTEN_PID={listenPid} LISTEN_FDNAMES={Environment.GetEnvironmentVariable("LISTEN_FDNAMES")}\n");
}
else if (Get("--serve-port") is { } portText)
{
    string? portValue = portText == "env" ? Environment.GetEnvironmentVariable("PORT") : portText;
    if (!int.TryParse(portValue, out int port))
    {
        Console.Error.WriteLine($"testchild: --serve-port {portText}: '{portValue}' is not a port");
        return 3;
    }
    var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
    listener.Bind(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, port));
    listener.Listen(511);
    server = new HttpServer(listener, pid, Environment.GetEnvironmentVariable("TEND_INSTANCE"));
    server.Start();
    Write($"serving {listener.LocalEndPoint} pid={pid}\n");
}

// --needs-port PORT: a client of a database stand-in: connects every 200 ms, exits 1 once it is refused.
if (Get("--needs-port") is { } neededPort)
{
    int needed = int.Parse(neededPort);
    new Thread(() =>
    {
        while (true)
        {
            try
            {
                using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                probe.Connect(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, needed));
            }
            catch (SocketException e)
            {
                Console.Error.WriteLine($"testchild: cannot reach 127.0.0.1:{needed}: {e.SocketErrorCode}");
                Environment.Exit(1);
            }
            Thread.Sleep(200);
        }
    }) { IsBackground = true }.Start();
}

if (Get("--notify-status") is { } status) Notify("STATUS=" + status);
if (Get("--notify-send") is { } verbatim) Notify(verbatim.Replace("\\n", "\n"));
if (Get("--notify-ready-after") is { } readyAfter)
{
    var delay = ParseDuration(readyAfter);
    new Thread(() => { Thread.Sleep(delay); Notify("READY=1"); }) { IsBackground = true }.Start();
}
if (Get("--notify-watchdog") is { } watchdogEvery)
{
    var every = ParseDuration(watchdogEvery);
    var stopAfter = Get("--notify-watchdog-stop-after") is { } stopText ? ParseDuration(stopText) : Timeout.InfiniteTimeSpan;
    var clock = Stopwatch.StartNew();
    new Thread(() =>
    {
        while (stopAfter == Timeout.InfiniteTimeSpan || clock.Elapsed < stopAfter)
        {
            Notify("WATCHDOG=1");
            Thread.Sleep(every);
        }
    }) { IsBackground = true }.Start();
}

if (Get("--grandchild") is { } gcFile)
{
    var psi = new ProcessStartInfo(Environment.ProcessPath!, "--sleep") { UseShellExecute = false };
    var gc = Process.Start(psi)!;
    File.WriteAllText(gcFile, gc.Id.ToString());
}

// Memory outside the GC heap (mmap, touched), so RSS follows exactly what the test asks for.
//   --grow MB_PER_S: a leak, one chunk every 100 ms, never released.
//   --sawtooth MB: 4 MB/s up to MB, then everything released at once, over and over.
Timer? memoryTimer = null;
if (Get("--grow") is { } growRate)
{
    long chunk = (long)(double.Parse(growRate, System.Globalization.CultureInfo.InvariantCulture) * 1024 * 1024 / 10);
    memoryTimer = new Timer(_ => MapTouched(chunk), null, 0, 100);
}
if (Get("--sawtooth") is { } sawTop)
{
    long top = long.Parse(sawTop) * 1024 * 1024;
    var held = new List<(nint Address, long Length)>();
    long total = 0;
    memoryTimer = new Timer(_ =>
    {
        lock (held)
        {
            if (total >= top)
            {
                foreach (var (address, length) in held) munmap(address, (nuint)length);
                held.Clear();
                total = 0;
                return;
            }
            held.Add((MapTouched(1024 * 1024), 1024 * 1024));
            total += 1024 * 1024;
        }
    }, null, 0, 250);
}

Timer? churnTimer = null;
if (Has("--churn"))
{
    // And on the thread pool, so it has threads to count.
    churnTimer = new Timer(_ => GC.KeepAlive(new byte[4096]), null, 0, 10);
    var contended = new object();
    for (int t = 0; t < 2; t++)
    {
        new Thread(() =>
        {
            while (true)
            {
                for (int i = 0; i < 64; i++) GC.KeepAlive(new byte[1024]);
                try { throw new InvalidOperationException("churn"); }
                catch (InvalidOperationException) { }
                lock (contended) Thread.Sleep(2);
                Thread.Sleep(1);
            }
        }) { IsBackground = true, Name = "churn" }.Start();
    }
}

// --tick MS: "tick N" on stdout every MS milliseconds, numbered from 1, for as long as it runs: a
// test that replaces the daemon meanwhile checks that no number is missing from the log.
Thread? ticker = null;
if (Get("--tick") is { } tickText)
{
    int every = int.Parse(tickText);
    ticker = new Thread(() =>
    {
        for (long n = 1; ; n++)
        {
            Write($"tick {n}\n");
            Thread.Sleep(every);
        }
    }) { IsBackground = true, Name = "tick" };
    ticker.Start();
}

byte[]? hog = null;
if (Get("--alloc") is { } mb)
{
    hog = new byte[int.Parse(mb) * 1024L * 1024L];
    for (int i = 0; i < hog.Length; i += 4096) hog[i] = 1;
}

if (Get("--spew") is { } spew)
{
    long n = long.Parse(spew);
    var line = new byte[100];
    line.AsSpan().Fill((byte)'x');
    line[99] = (byte)'\n';
    if (Has("--block"))
    {
        var block = new byte[64 * 1024 / 100 * 100];
        int fill = 0;
        for (long i = 1; i <= n; i++)
        {
            FormatLine(line, i);
            line.CopyTo(block, fill);
            fill += 100;
            if (fill == block.Length) { stdout.Write(block, 0, fill); fill = 0; }
        }
        if (fill > 0) stdout.Write(block, 0, fill);
    }
    else
    {
        for (long i = 1; i <= n; i++)
        {
            FormatLine(line, i);
            stdout.Write(line, 0, 100);
        }
    }
}

if (Get("--partial") is { } partial) Write(partial);

bool exitThisRun = true;
if (Get("--once") is { } onceFile)
{
    try { using (new FileStream(onceFile, FileMode.CreateNew)) { } }
    catch (IOException) { exitThisRun = false; }
}

if (Get("--exit-after") is { } after && exitThisRun)
{
    Thread.Sleep(ParseDuration(after));
    // The runtime catches SIGSEGV for its own use; restore the default action so the signal kills us.
    if (Has("--crash")) { signal(11, 0); kill(pid, 11); Thread.Sleep(Timeout.Infinite); }
    GC.KeepAlive(hog);
    GC.KeepAlive(churnTimer);
GC.KeepAlive(memoryTimer);
    return int.Parse(Get("--exit-code") ?? "0");
}

if (server is not null)
{
    server.Completion.Wait();
    return 0;
}

Thread.Sleep(Timeout.Infinite);
GC.KeepAlive(churnTimer);
GC.KeepAlive(memoryTimer);
return 0;

void Write(string s) { var b = Encoding.UTF8.GetBytes(s); stdout.Write(b, 0, b.Length); }

// sd_notify(3) by hand: one datagram to $NOTIFY_SOCKET ('@' is the abstract namespace). A failure is
// reported on stderr and otherwise ignored, as the real sd_notify does.
static void Notify(string payload)
{
    string? target = Environment.GetEnvironmentVariable("NOTIFY_SOCKET");
    if (string.IsNullOrEmpty(target)) return;
    if (target[0] == '@') target = "\0" + target[1..];
    try
    {
        using var socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        socket.SendTo(Encoding.UTF8.GetBytes(payload), new UnixDomainSocketEndPoint(target));
    }
    catch (SocketException e)
    {
        Console.Error.WriteLine($"testchild: notify {target}: {e.Message}");
    }
}

// "line 000000042 " then x's: a line number every test can check for order and gaps.
static void FormatLine(byte[] line, long i)
{
    Encoding.ASCII.GetBytes("line ").CopyTo(line, 0);
    Encoding.ASCII.GetBytes(i.ToString("D9")).CopyTo(line, 5);
    line[14] = (byte)' ';
}

static TimeSpan ParseDuration(string s) =>
    s.EndsWith("ms") ? TimeSpan.FromMilliseconds(double.Parse(s[..^2]))
    : s.EndsWith('s') ? TimeSpan.FromSeconds(double.Parse(s[..^1]))
    : TimeSpan.FromMilliseconds(double.Parse(s));

static nint MapTouched(long length)
{
    nint address = mmap(0, (nuint)length, 3 /* PROT_READ|PROT_WRITE */, 0x22 /* MAP_PRIVATE|MAP_ANONYMOUS */, -1, 0);
    for (long i = 0; i < length; i += 4096) System.Runtime.InteropServices.Marshal.WriteByte(address + (nint)i, 1);
    return address;
}

[DllImport("libc", SetLastError = true)]
static extern nint mmap(nint addr, nuint length, int prot, int flags, int fd, nint offset);

[DllImport("libc", SetLastError = true)]
static extern int munmap(nint addr, nuint length);

[DllImport("libc", SetLastError = true)]
static extern int kill(int pid, int sig);

[DllImport("libc")]
static extern nint signal(int sig, nint handler);

[DllImport("libc", SetLastError = true)]
static extern int open(string path, int flags, int mode);

[DllImport("libc", SetLastError = true)]
static extern nint write(int fd, byte[] buffer, nint count);

[DllImport("libc")]
static extern int close(int fd);
