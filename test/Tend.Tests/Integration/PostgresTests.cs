using System.Diagnostics;
using Tend.Isolation;
using Tend.Tests.Support;

namespace Tend.Tests.Integration;

/// <summary>
/// Debian's PostgreSQL run the way an operator would: as user postgres, ready when it says so over
/// NOTIFY_SOCKET (it links libsystemd), stopped with SIGINT (fast shutdown). The cases that broke it
/// before: a notify socket the postgres user could not reach (restarted every ready_timeout), and a
/// restart after kill -9 of the postmaster while its backends still held the shared memory.
/// </summary>
public sealed class PostgresTests : IAsyncLifetime
{
    private static readonly string s_bin = Directory.Exists("/usr/lib/postgresql")
        ? Directory.GetDirectories("/usr/lib/postgresql").Select(d => Path.Combine(d, "bin")).Where(d => File.Exists(Path.Combine(d, "postgres"))).Order().LastOrDefault() ?? ""
        : "";

    private readonly TendHome _home = new();
    private string _data = "";

    public async Task InitializeAsync()
    {
        Assert.True(s_bin.Length > 0, "PostgreSQL is not installed (apt-get install postgresql; .ci/run does)");
        UserAccount postgres = UserAccounts.FindUser("postgres") ?? throw new InvalidOperationException("no postgres user");
        // The cluster lives where the postgres user can reach it (the test home is root's, 0700).
        _data = Directory.CreateTempSubdirectory("tend-pg-").FullName;
        Run("chown", $"{postgres.Uid}:{postgres.Gid}", _data);
        Run(HostSupport.FindTool("setpriv")!, "--reuid=postgres", "--regid=postgres", "--init-groups", "--",
            Path.Combine(s_bin, "initdb"), "-D", Path.Combine(_data, "db"), "-A", "trust", "-U", "postgres", "--no-sync");
        await Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _home.DisposeAsync();
        foreach (int p in Postmasters()) ProcFs.Kill(p);
        Directory.Delete(_data, recursive: true);
    }

    [Fact]
    public async Task AsUserPostgres_ReadyByNotify_StopsCleanly_AndRestartsAfterKillDashNine()
    {
        int port = FreePorts.Next();
        string config = _home.WriteConfig($"""
            apps:
              pg:
                cmd: {Path.Combine(s_bin, "postgres")}
                args: [-D, {Path.Combine(_data, "db")}, -k, {_data}, -p, "{port}", -c, listen_addresses=127.0.0.1]
                cwd: {_data}
                user: postgres
                ready:
                  notify: true
                  ready_timeout: 60s
                stop_signal: SIGINT
                kill_timeout: 20s
            """);
        await _home.OkAsync("start", config);
        var ready = await _home.WaitForAsync(l => l.Single().Ready, "postgres ready (READY=1)", TimeSpan.FromSeconds(60));
        int first = ready.Single().Pid!.Value;
        // Ready means it accepts connections: the first query right away succeeds.
        Assert.Equal("1", Query(port, "select 1"));
        Assert.Equal($"{UserAccounts.FindUser("postgres")!.Uid}", File.ReadAllLines($"/proc/{first}/status").First(l => l.StartsWith("Uid:")).Split('\t')[1]);

        // kill -9 of the postmaster: every backend goes with it, so the next one starts on the same data.
        ProcFs.Kill(first);
        var again = await _home.WaitForAsync(l => l.Single() is { Ready: true, Restarts: 1 } i && i.Pid != first, "postgres restarted and ready", TimeSpan.FromSeconds(60));
        Assert.Equal("2", Query(port, "select 2"));
        string err = File.ReadAllText(Path.Combine(_home.LogsDir, "pg-0.err.log"));
        Assert.DoesNotContain("lock file", err);
        Assert.DoesNotContain("already running", err);
        Assert.DoesNotContain("pre-existing shared memory block", err);

        await _home.OkAsync("stop", "pg");
        Assert.Empty(Postmasters());
        string daemonLog = File.ReadAllText(Path.Combine(_home.Dir, "daemon.log"));
        Assert.Contains("pg#0 reports it is stopping (STOPPING=1)", daemonLog);
        Assert.Equal(1, (await _home.ListAsync()).Single().Restarts);
        Assert.NotEqual(first, again.Single().Pid);
    }

    private string Query(int port, string sql)
    {
        var psi = new ProcessStartInfo(Path.Combine(s_bin, "psql"), ["-h", "127.0.0.1", "-p", port.ToString(), "-U", "postgres", "-tA", "-c", sql])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var psql = Process.Start(psi)!;
        string output = psql.StandardOutput.ReadToEnd();
        string error = psql.StandardError.ReadToEnd();
        psql.WaitForExit();
        Assert.True(psql.ExitCode == 0, $"psql failed: {error}");
        return output.Trim();
    }

    /// <summary>Live processes of this test's cluster: postgres's processes started under this test's home (the postmaster and every backend).</summary>
    private List<int> Postmasters() =>
        [.. ProcFs.WithEnvironment("TEND_HOME", _home.Dir).Where(p => UserOf(p) == UserAccounts.FindUser("postgres")!.Uid)];

    private static uint? UserOf(int pid)
    {
        try { return uint.Parse(File.ReadAllLines($"/proc/{pid}/status").First(l => l.StartsWith("Uid:")).Split('\t')[1]); }
        catch (IOException) { return null; }
    }

    private static void Run(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file, args) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var p = Process.Start(psi)!;
        string err = p.StandardError.ReadToEnd();
        p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, $"{file} {string.Join(' ', args)} failed: {err}");
    }
}
