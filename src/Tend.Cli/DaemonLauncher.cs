using System.Diagnostics;
using System.Text;
using Tend.Api;

namespace Tend.Cli;

/// <summary>
/// Auto-start, like PM2: the first command that finds no daemon starts one and waits until it
/// answers /v1/ping. Two CLIs racing here must not start two daemons, so the check-and-spawn runs
/// under an exclusive lock on $TEND_HOME/cli-launch.lock (flock via FileShare.None; the fd is
/// O_CLOEXEC, so the daemon does not inherit it). The daemon's own single-instance guard stays the
/// last word; this lock only keeps well-behaved CLIs from racing each other.
/// </summary>
internal static class DaemonLauncher
{
    private static readonly TimeSpan s_startTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan s_pollInterval = TimeSpan.FromMilliseconds(50);
    private const string DaemonName = "tend-daemon";

    public static async Task EnsureRunningAsync(string home, CancellationToken ct)
    {
        CreateHome(home);
        using FileStream launchLock = await AcquireLaunchLockAsync(home, ct).ConfigureAwait(false);

        // Someone may have started it while we waited for the lock.
        if (await IsRespondingAsync(home, ct).ConfigureAwait(false)) return;

        (string fileName, IReadOnlyList<string> args) = LocateDaemon();
        try
        {
            DaemonSpawner.Spawn(fileName, args, home);
        }
        catch (Exception ex) when (ex is not OperationCanceledException and not CliException)
        {
            throw new CliException($"could not start the daemon: {ex.Message}", 1, null, ex);
        }

        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < s_startTimeout)
        {
            await Task.Delay(s_pollInterval, ct).ConfigureAwait(false);
            if (await IsRespondingAsync(home, ct).ConfigureAwait(false)) return;
        }

        string log = Path.Combine(home, "daemon.log");
        var details = new List<string> { $"last lines of {log}:" };
        details.AddRange(ReadTail(log, 20).Select(line => "  " + line));
        throw new CliException($"the daemon did not answer within {s_startTimeout.TotalSeconds:0}s", 1, details);
    }

    /// <summary>The daemon to start: $TEND_DAEMON, else tend-daemon(.dll) beside tend, else in daemon/ beside it.</summary>
    internal static (string FileName, IReadOnlyList<string> Args) LocateDaemon()
    {
        string? configured = Environment.GetEnvironmentVariable("TEND_DAEMON");
        if (!string.IsNullOrEmpty(configured))
        {
            string path = Path.GetFullPath(configured);
            if (!File.Exists(path)) throw new CliException($"TEND_DAEMON points to a missing file: {path}", 1);
            return CommandFor(path);
        }

        string baseDir = AppContext.BaseDirectory;
        foreach (string dir in new[] { baseDir, Path.Combine(baseDir, "daemon") })
        {
            string apphost = Path.Combine(dir, DaemonName);
            // A tool package does not keep the apphost's execute bit, and NuGet extracts a tool 0744,
            // so the owner (root, for a global install) may run it and nobody else may. access(2)
            // answers for the user we are; otherwise go through the dotnet host, which only reads the .dll.
            if (File.Exists(apphost) && Tend.Identity.ProcessIdentity.CanExecute(apphost)) return (apphost, []);
            string dll = Path.Combine(dir, DaemonName + ".dll");
            if (File.Exists(dll)) return CommandFor(dll);
        }
        throw new CliException(
            $"cannot find {DaemonName} in {baseDir} or {Path.Combine(baseDir, "daemon")}",
            1,
            ["set TEND_DAEMON to the daemon's path (its apphost or its .dll)"]);
    }

    /// <summary>
    /// <see cref="LocateDaemon"/> with the program as an absolute path, for execve (which does not search
    /// PATH): the dotnet host, when it is named bare, is looked up on <paramref name="searchPath"/>.
    /// </summary>
    internal static (string Program, IReadOnlyList<string> Args) LocateDaemonProgram(string? searchPath)
    {
        (string fileName, IReadOnlyList<string> args) = LocateDaemon();
        if (fileName.Contains('/')) return (Path.GetFullPath(fileName), args);
        string? found = (searchPath ?? "/usr/bin:/bin").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(d => Path.Combine(d, fileName)).FirstOrDefault(File.Exists);
        return (found ?? throw new CliException($"cannot find {fileName} on PATH", 1), args);
    }

    private static (string, IReadOnlyList<string>) CommandFor(string path) =>
        path.EndsWith(".dll", StringComparison.OrdinalIgnoreCase) ? (DotnetHost(), [path]) : (path, []);

    /// <summary>The dotnet host to run a framework-dependent .dll with.</summary>
    private static string DotnetHost()
    {
        string? fromSdk = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        if (!string.IsNullOrEmpty(fromSdk) && File.Exists(fromSdk)) return fromSdk;
        string? self = Environment.ProcessPath;
        if (self is not null && Path.GetFileNameWithoutExtension(self) == "dotnet") return self;
        string? root = Environment.GetEnvironmentVariable("DOTNET_ROOT");
        if (!string.IsNullOrEmpty(root) && File.Exists(Path.Combine(root, "dotnet"))) return Path.Combine(root, "dotnet");
        return "dotnet";
    }

    private static void CreateHome(string home)
    {
        // 0700: the socket inside is the control plane of every app the user runs. An existing home
        // must be ours and closed to other users, as must the directories above it.
        try { Security.HomeTrust.Ensure(home); }
        catch (Security.UntrustedHomeException ex) { throw new CliException(ex.Message, 2); }
    }

    private static async Task<FileStream> AcquireLaunchLockAsync(string home, CancellationToken ct)
    {
        string path = Path.Combine(home, "cli-launch.lock");
        var clock = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (clock.Elapsed < s_startTimeout + s_startTimeout)
            {
                // Another tend is starting the daemon; it holds the lock for at most s_startTimeout.
                await Task.Delay(s_pollInterval, ct).ConfigureAwait(false);
            }
        }
    }

    private static async Task<bool> IsRespondingAsync(string home, CancellationToken ct)
    {
        using var client = new DaemonClient(home, ensureRunning: null);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(1));
        try
        {
            await client.GetAsync(ApiRoutes.Ping, TendJsonContext.Default.PingInfo, timeout.Token).ConfigureAwait(false);
            return true;
        }
        catch (CliException)
        {
            return false;
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return false; // up but not answering yet (still binding, or wedged): keep polling
        }
    }

    /// <summary>The last <paramref name="count"/> lines of a file, reading at most its last 16 KiB.</summary>
    internal static IReadOnlyList<string> ReadTail(string path, int count)
    {
        try
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            long start = Math.Max(0, file.Length - 16 * 1024);
            file.Seek(start, SeekOrigin.Begin);
            using var reader = new StreamReader(file, Encoding.UTF8);
            string text = reader.ReadToEnd();
            string[] lines = text.Split('\n');
            // A line cut by the seek is partial; drop it unless it is all we have.
            IEnumerable<string> usable = start > 0 && lines.Length > 1 ? lines.Skip(1) : lines;
            List<string> kept = usable.Select(l => l.TrimEnd('\r')).ToList();
            if (kept.Count > 0 && kept[^1].Length == 0) kept.RemoveAt(kept.Count - 1);
            return kept.Count <= count ? kept : kept.GetRange(kept.Count - count, count);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return ["(no daemon.log)"];
        }
        catch (IOException ex)
        {
            return [$"(cannot read daemon.log: {ex.Message})"];
        }
        catch (UnauthorizedAccessException ex)
        {
            return [$"(cannot read daemon.log: {ex.Message})"];
        }
    }
}
