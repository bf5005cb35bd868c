using System.Globalization;
using System.Text;
using Tend.Io;
using Tend.Processes;

namespace Tend.Tests.Processes;

/// <summary>Helpers shared by the process-layer tests: locating testchild, building requests,
/// bounded waits on /proc.</summary>
internal static class ProcessTestSupport
{
    public static readonly TimeSpan WaitLimit = TimeSpan.FromSeconds(30);

    private static readonly Lazy<string> s_testChild = new(FindTestChild);

    /// <summary>The built testchild apphost, found next to the test project's configuration.</summary>
    public static string TestChildPath => s_testChild.Value;

    public static IReadOnlyDictionary<string, string> BaseEnvironment() => new Dictionary<string, string>
    {
        ["PATH"] = "/usr/local/bin:/usr/bin:/bin",
        ["HOME"] = Path.GetTempPath(),
    };

    public static SpawnRequest TestChild(params string[] args) =>
        new(TestChildPath, args, Path.GetTempPath(), BaseEnvironment());

    public static SpawnRequest Command(string fileName, params string[] args) =>
        new(fileName, args, Path.GetTempPath(), BaseEnvironment());

    /// <summary>A blocking stream over a child's pipe end, for tests that read it directly. The child
    /// keeps owning the descriptor; the engine itself reads these through the epoll loop instead.</summary>
    public static Stream? Blocking(SafeFdHandle? pipe)
    {
        if (pipe is null) return null;
        int fd = (int)pipe.DangerousGetHandle();
        int flags = Interop.Sys.Fcntl(fd, Interop.Sys.F_GETFL, 0);
        Interop.Sys.Fcntl(fd, Interop.Sys.F_SETFL, flags & ~Interop.Sys.O_NONBLOCK);
        return new FileStream(new Microsoft.Win32.SafeHandles.SafeFileHandle(fd, ownsHandle: false), FileAccess.Read, bufferSize: 0);
    }

    public static Task<string> ReadAllAsync(SafeFdHandle? pipe) => ReadAllAsync(Blocking(pipe));

    public static Task<string?> ReadLineAsync(SafeFdHandle? pipe) => ReadLineAsync(Blocking(pipe));

    public static async Task<string> ReadAllAsync(Stream? stream)
    {
        Assert.NotNull(stream);
        using var reader = new StreamReader(stream, Encoding.UTF8, leaveOpen: true);
        return await reader.ReadToEndAsync().WaitAsync(WaitLimit);
    }

    /// <summary>Reads one line from the child's stdout: used as a "ready" handshake.</summary>
    public static async Task<string?> ReadLineAsync(Stream? stream)
    {
        Assert.NotNull(stream);
        // One byte at a time so nothing after the line is consumed (the stream is unbuffered).
        var bytes = new List<byte>();
        var one = new byte[1];
        while (await stream.ReadAsync(one).AsTask().WaitAsync(WaitLimit) == 1)
        {
            if (one[0] == (byte)'\n') return Encoding.UTF8.GetString(bytes.ToArray());
            bytes.Add(one[0]);
        }
        return bytes.Count == 0 ? null : Encoding.UTF8.GetString(bytes.ToArray());
    }

    /// <summary>Fields after the comm of /proc/&lt;pid&gt;/stat, numbered as in proc(5) (3 = state).</summary>
    public static string? StatField(int pid, int field)
    {
        string stat;
        try
        {
            stat = File.ReadAllText($"/proc/{pid}/stat");
        }
        catch (IOException)
        {
            return null;
        }
        string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return fields[field - 3];
    }

    /// <summary>Polls <paramref name="condition"/> until it holds; fails the test after <see cref="WaitLimit"/>.</summary>
    public static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + WaitLimit;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) Assert.Fail($"timed out waiting until {what}");
            await Task.Delay(20);
        }
    }

    /// <summary>Waits for testchild's --grandchild file and for that grandchild to be running in
    /// <paramref name="pgid"/>; returns its pid and start time.</summary>
    public static async Task<(int Pid, ulong StartTime)> WaitForGrandchildAsync(string pidFile, int pgid)
    {
        int pid = 0;
        await WaitUntilAsync(() =>
            File.Exists(pidFile)
            && int.TryParse(File.ReadAllText(pidFile), NumberStyles.None, CultureInfo.InvariantCulture, out pid)
            && StatField(pid, 5) == pgid.ToString(CultureInfo.InvariantCulture),
            "the grandchild runs");
        return (pid, ProcStat.ReadStartTime(pid) ?? throw new InvalidOperationException("grandchild vanished"));
    }

    /// <summary>Gone means no /proc entry for that process any more, or only its zombie (a grandchild
    /// is reaped by whoever inherited it, which may not be prompt).</summary>
    public static Task WaitUntilGoneAsync(int pid, ulong startTime) =>
        WaitUntilAsync(() => !ProcStat.IsAlive(pid, startTime), $"process {pid} is gone");

    /// <summary>Last-resort cleanup for processes a test did not start directly.</summary>
    public static async Task KillIfAliveAsync(int pid, ulong startTime)
    {
        if (pid <= 1 || ChildProcess.Adopt(pid, startTime) is not { } process) return;
        await using (process)
        {
            process.Signal(Signals.SIGKILL);
            await process.Exited.WaitAsync(WaitLimit);
        }
    }

    public static string CreateTempDirectory()
    {
        string dir = Path.Combine(Path.GetTempPath(), "tend-proc-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return dir;
    }

    private static string FindTestChild()
    {
        string configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent?.Name ?? "Debug";
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (!File.Exists(Path.Combine(dir.FullName, "Tend.slnx"))) continue;
            string path = Path.Combine(dir.FullName, "test", "Tend.TestChild", "bin", configuration, "net10.0", "testchild");
            if (File.Exists(path)) return path;
            string debug = Path.Combine(dir.FullName, "test", "Tend.TestChild", "bin", "Debug", "net10.0", "testchild");
            if (File.Exists(debug)) return debug;
            throw new FileNotFoundException("testchild is not built", path);
        }
        throw new DirectoryNotFoundException("repository root (Tend.slnx) not found above " + AppContext.BaseDirectory);
    }
}
