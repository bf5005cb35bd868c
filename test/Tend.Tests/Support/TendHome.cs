using System.Diagnostics;
using System.Text.Json;
using Tend.Api;

namespace Tend.Tests.Support;

/// <summary>The result of one `tend` invocation.</summary>
public sealed record CliResult(int ExitCode, string Stdout, string Stderr)
{
    public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Stdout}\n--- stderr\n{Stderr}";
}

/// <summary>
/// A private TEND_HOME for one test: its own daemon, its own socket, its own logs. Disposing it
/// stops the daemon, kills anything still running that was started under it (found by the
/// TEND_HOME in its environment, which every app inherits from the CLI), and deletes the folder.
/// </summary>
public sealed class TendHome : IAsyncDisposable
{
    public TendHome()
    {
        Dir = Directory.CreateTempSubdirectory("tend-test-").FullName;
    }

    public string Dir { get; }

    public string LogsDir => Path.Combine(Dir, "logs");

    /// <summary>Run the real `tend` CLI with this home.</summary>
    public async Task<CliResult> RunAsync(params string[] args) => await RunAsync(args, null);

    public async Task<CliResult> RunAsync(string[] args, IDictionary<string, string>? extraEnv, TimeSpan? timeout = null, string? cwd = null)
    {
        ProcessStartInfo psi = CliStartInfo(args, cwd);
        if (extraEnv is not null) foreach (var (k, v) in extraEnv) psi.Environment[k] = v;

        using var process = Process.Start(psi)!;
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(90));
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"tend {string.Join(' ', args)} did not finish; stdout so far: {await stdout}");
        }
        return new CliResult(process.ExitCode, await stdout, await stderr);
    }

    /// <summary>
    /// Start `tend` with this home and leave it running (a follower: `logs -f`, `events`), its
    /// stdio redirected and stdout read as UTF-8. The caller reads, stops and disposes it.
    /// </summary>
    public Process StartCli(params string[] args) => Process.Start(CliStartInfo(args, null))!;

    /// <summary>As <see cref="StartCli(string[])"/>, with these variables set (or replaced) in its environment.</summary>
    public Process StartCli(string[] args, IDictionary<string, string> env)
    {
        ProcessStartInfo psi = CliStartInfo(args, null);
        foreach (var (k, v) in env) psi.Environment[k] = v;
        return Process.Start(psi)!;
    }

    private ProcessStartInfo CliStartInfo(string[] args, string? cwd)
    {
        var psi = new ProcessStartInfo(TestPaths.Cli)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = cwd ?? Dir,
            StandardOutputEncoding = System.Text.Encoding.UTF8,
        };
        foreach (string a in args) psi.ArgumentList.Add(a);
        psi.Environment["TEND_HOME"] = Dir;
        psi.Environment["NO_COLOR"] = "1";
        return psi;
    }

    /// <summary>
    /// `tend daemon run` with this home and <paramref name="env"/>: the daemon in the foreground, as a
    /// systemd unit runs it (its NOTIFY_SOCKET, its stored descriptors); returns once it answers.
    /// </summary>
    public async Task<Process> RunDaemonAsync(IDictionary<string, string> env)
    {
        ProcessStartInfo psi = CliStartInfo(["daemon", "run"], null);
        psi.RedirectStandardOutput = false;
        psi.StandardOutputEncoding = null;
        psi.RedirectStandardError = false;
        psi.RedirectStandardInput = false;
        foreach (var (k, v) in env) psi.Environment[k] = v;
        var daemon = Process.Start(psi)!;
        await Eventually.TrueAsync(() => DaemonPid == daemon.Id && File.Exists(Path.Combine(Dir, ApiRoutes.SocketFileName)), "the daemon answering");
        await OkAsync("ping");
        return daemon;
    }

    /// <summary>An HTTP client for the daemon's API over its unix socket (base address http://tend/), for raw requests.</summary>
    public HttpClient ApiClient()
    {
        string socket = Path.Combine(Dir, ApiRoutes.SocketFileName);
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (_, ct) =>
            {
                var s = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Unspecified);
                try
                {
                    await s.ConnectAsync(new System.Net.Sockets.UnixDomainSocketEndPoint(socket), ct);
                    return new System.Net.Sockets.NetworkStream(s, ownsSocket: true);
                }
                catch
                {
                    s.Dispose();
                    throw;
                }
            },
        };
        return new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan, BaseAddress = new Uri("http://tend/") };
    }

    /// <summary>Run and insist on exit code 0.</summary>
    public async Task<CliResult> OkAsync(params string[] args)
    {
        CliResult r = await RunAsync(args);
        Assert.True(r.ExitCode == 0, $"tend {string.Join(' ', args)} failed: {r}");
        return r;
    }

    public async Task<InstanceInfo[]> ListAsync()
    {
        CliResult r = await OkAsync("list", "--json");
        return JsonSerializer.Deserialize(r.Stdout, TendJsonContext.Default.InstanceInfoArray)
            ?? throw new InvalidOperationException("list --json printed null");
    }

    public async Task<AppInfo> DescribeAsync(string target)
    {
        CliResult r = await OkAsync("describe", target, "--json");
        return JsonSerializer.Deserialize(r.Stdout, TendJsonContext.Default.AppInfo)!;
    }

    /// <summary>Poll `tend list --json` until the condition holds.</summary>
    public Task<InstanceInfo[]> WaitForAsync(Func<InstanceInfo[], bool> condition, string what, TimeSpan? timeout = null) =>
        Eventually.ReturnsAsync(ListAsync, l => l is not null && condition(l), what, timeout);

    /// <summary>Write tend.yaml (or another name) into the home and return its path.</summary>
    public string WriteConfig(string yaml, string name = "tend.yaml")
    {
        string path = Path.Combine(Dir, name);
        File.WriteAllText(path, yaml);
        return path;
    }

    /// <summary>A YAML-safe quoted path to the test child.</summary>
    public static string Child => TestPaths.TestChild;

    public int? DaemonPid
    {
        get
        {
            try { return int.TryParse(File.ReadAllText(Path.Combine(Dir, "daemon.pid")).Trim(), out int pid) ? pid : null; }
            catch (IOException) { return null; }
        }
    }

    /// <summary>Every live process started under this home (the daemon included).</summary>
    public List<int> LiveProcesses() => ProcFs.WithEnvironment("TEND_HOME", Dir);

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (DaemonPid is int pid && ProcFs.IsRunning(pid))
                await RunAsync(["kill"], null, TimeSpan.FromSeconds(60));
        }
        catch (Exception) { /* cleanup below is the backstop */ }

        // Backstop: nothing started under this home may outlive the test.
        for (int attempt = 0; attempt < 50; attempt++)
        {
            var left = LiveProcesses();
            if (left.Count == 0) break;
            foreach (int p in left) ProcFs.Kill(p, 9);
            await Task.Delay(100);
        }
        // The daemon removes its cgroup subtree when it exits; one killed by a test leaves it behind.
        Tend.Isolation.CgroupTree.Open(Tend.Isolation.CgroupLayout.Detect(), Dir).RemoveIfEmpty();
        try { Directory.Delete(Dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
