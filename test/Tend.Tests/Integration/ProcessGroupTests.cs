using Tend.Tests.Support;

namespace Tend.Tests.Integration;

/// <summary>
/// A restart starts the next process only when every process of the last run is gone: a
/// grandchild finishing its own shutdown, an orphan the app left behind. (PostgreSQL refused to
/// start four times while its old postmaster, re-parented to init, had not gone yet.)
/// </summary>
public sealed class ProcessGroupTests : IAsyncLifetime
{
    private readonly TendHome _home = new();

    public Task InitializeAsync() => Task.CompletedTask;
    public async Task DisposeAsync() => await _home.DisposeAsync();

    [Fact]
    public async Task Restart_GrandchildOutlivesTheLeaderByASecond_NextRunStartsAfterItIsGone()
    {
        string log = Path.Combine(_home.Dir, "db.log");
        // The leader (exec'd sleep) dies on SIGTERM at once; its grandchild takes a second to shut
        // down, like a database's worker flushing, and stamps when it is done.
        string script = _home.WriteConfig("""
            log="$1"
            echo "start $(date +%s%N)" >> "$log"
            (
              trap 'sleep 1; echo "gone $(date +%s%N)" >> "$log"; exit 0' TERM
              while :; do sleep 0.05; done
            ) &
            exec sleep 600
            """, "db.sh");
        string config = _home.WriteConfig($"""
            apps:
              db:
                cmd: /bin/sh
                args: [{script}, {log}]
                kill_timeout: 10s
            """);
        await _home.OkAsync("start", config);
        await Eventually.TrueAsync(() => File.Exists(log) && File.ReadAllText(log).Contains("start"), "db started");
        await Task.Delay(300); // the grandchild has set its trap

        await _home.OkAsync("restart", "db");
        await Eventually.TrueAsync(() => Lines(log, "start").Count == 2, "db started again");

        List<long> starts = Lines(log, "start");
        List<long> gone = Lines(log, "gone");
        Assert.True(gone.Count == 1, $"the grandchild was cut short (SIGKILLed before its shutdown ended):\n{File.ReadAllText(log)}");
        Assert.True(gone[0] < starts[1], $"the next run started before the grandchild was gone:\n{File.ReadAllText(log)}");
    }

    [Fact]
    public async Task OrphansOfAnApp_AreReapedByTheDaemon_NotLeftAsZombies()
    {
        string pidFile = Path.Combine(_home.Dir, "orphan.pid");
        // Each run leaves an orphan behind (a double fork), which exits a moment later.
        string config = _home.WriteConfig($"""
            apps:
              forker:
                run: sh -c '(sleep 0.2 & echo $! > {pidFile}); exec sleep 600'
            """);
        await _home.OkAsync("start", config);
        int orphan = await Eventually.ReturnsAsync(
            () => File.Exists(pidFile) && int.TryParse(File.ReadAllText(pidFile).Trim(), out int p) ? p : 0, p => p > 0, "the orphan's pid");
        // Re-parented to the daemon (a subreaper) and reaped there: gone from /proc, not a zombie.
        await Eventually.TrueAsync(() => !Directory.Exists($"/proc/{orphan}"), $"orphan {orphan} reaped",
            TimeSpan.FromSeconds(10));
    }

    private static List<long> Lines(string log, string word) =>
        [.. File.ReadAllLines(log).Where(l => l.StartsWith(word + " ", StringComparison.Ordinal)).Select(l => long.Parse(l[(word.Length + 1)..]))];
}
