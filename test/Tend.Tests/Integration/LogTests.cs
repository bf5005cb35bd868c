using System.Text.Json;
using Tend.Api;
using Tend.Tests.Support;

namespace Tend.Tests.Integration;

/// <summary>Logs through the daemon: nothing lost, tail and JSON, flush, a full disk.</summary>
public sealed class LogTests : IAsyncLifetime
{
    private readonly TendHome _home = new();

    public Task InitializeAsync() => Task.CompletedTask;
    public async Task DisposeAsync() => await _home.DisposeAsync();

    [Fact]
    public async Task NewAppWithADeletedAppsName_StartsItsOwnLog_TheOldLinesKeptAside()
    {
        await _home.OkAsync("start", "--name", "svc", "--", "sh", "-c", "echo from the old svc; exec sleep 600");
        await Eventually.ReturnsAsync(() => _home.OkAsync("logs", "svc", "--no-follow"), r => r.Stdout.Contains("from the old svc"), "old line logged");
        await _home.OkAsync("delete", "svc");

        await _home.OkAsync("start", "--name", "svc", "--", "sh", "-c", "echo from the new svc; exec sleep 600");
        await Eventually.ReturnsAsync(() => _home.OkAsync("logs", "svc", "--no-follow"), r => r.Stdout.Contains("from the new svc"), "new line logged");
        CliResult logs = await _home.OkAsync("logs", "svc", "--no-follow");
        Assert.DoesNotContain("from the old svc", logs.Stdout);

        // Nothing lost: the old lines are in the rotated file beside the new one.
        string outLog = (await _home.DescribeAsync("svc")).Instances.Single().OutLog;
        Assert.Contains("from the old svc", File.ReadAllText(outLog + ".1"));

        // A restart is the same app: its log goes on.
        await _home.OkAsync("restart", "svc");
        await Eventually.ReturnsAsync(() => _home.OkAsync("logs", "svc", "--no-follow", "--lines", "50"), r => r.Stdout.Split("from the new svc").Length == 3, "both runs' lines in one log");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task TwoMillionLines_AllArriveInOrder(bool blocks)
    {
        const int lines = 2_000_000;
        string args = blocks ? $"[--spew, \"{lines}\", --block, --exit-after, 0ms]" : $"[--spew, \"{lines}\", --exit-after, 0ms]";
        string config = _home.WriteConfig($"""
            apps:
              spew:
                cmd: {TendHome.Child}
                args: {args}
                restart: never
                logs: {"{"} max_size: 2G {"}"}
            """);
        await _home.OkAsync("start", config);
        await _home.WaitForAsync(l => l.Single().Status == "stopped", "spew finished", TimeSpan.FromMinutes(3));

        string path = Path.Combine(_home.LogsDir, "spew-0.out.log");
        long expected = 1;
        using (var reader = new StreamReader(path))
        {
            while (reader.ReadLine() is string line)
            {
                // "<timestamp> line 000000042 xxx..."
                int at = line.IndexOf(" line ", StringComparison.Ordinal);
                Assert.True(at > 0, $"line {expected}: no payload in \"{line[..Math.Min(60, line.Length)]}\"");
                long n = long.Parse(line.AsSpan(at + 6, 9));
                Assert.True(n == expected, $"expected line {expected}, found line {n}");
                Assert.Equal(at + 1 + 99, line.Length);
                expected++;
            }
        }
        Assert.Equal(lines + 1, expected);
        Assert.Equal(0, (await _home.DescribeAsync("spew")).Instances.Single().DroppedLines);
    }

    [Fact]
    public async Task Logs_NoFollow_PrintsLastLines_TextAndJson()
    {
        string config = _home.WriteConfig($"""
            apps:
              talker:
                cmd: {TendHome.Child}
                args: [--spew, "50", --echo-err, "an error line", --sleep]
            """);
        await _home.OkAsync("start", config);
        string outLog = Path.Combine(_home.LogsDir, "talker-0.out.log");
        await Eventually.TrueAsync(() => File.Exists(outLog) && File.ReadAllText(outLog).Contains("line 000000050"), "50 lines logged");
        await Eventually.TrueAsync(() => File.ReadAllText(Path.Combine(_home.LogsDir, "talker-0.err.log")).Contains("an error line"), "err logged");

        CliResult text = await _home.OkAsync("logs", "talker", "--out", "--lines", "5", "--no-follow");
        var textLines = text.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(5, textLines.Length);
        Assert.Contains("line 000000046", textLines[0]);
        Assert.Contains("line 000000050", textLines[4]);

        // PM2's --raw: the text alone, as the app wrote it.
        CliResult raw = await _home.OkAsync("logs", "talker", "--out", "--lines", "2", "--nostream", "--raw");
        Assert.Equal(textLines[3][(textLines[3].IndexOf("| ", StringComparison.Ordinal) + 2)..] + "\n"
            + textLines[4][(textLines[4].IndexOf("| ", StringComparison.Ordinal) + 2)..] + "\n", raw.Stdout);
        Assert.StartsWith("line 000000049", raw.Stdout);
        Assert.Equal(2, (await _home.RunAsync("logs", "talker", "--raw", "--json", "--nostream")).ExitCode);

        // PM2's --timestamp [format]: each line's time before its text, in this shell's zone.
        Assert.Matches(@"^talker#0 out \| \d{4}-\d{2}-\d{2}-\d{2}:\d{2}:\d{2} line 000000050",
            (await _home.OkAsync("logs", "talker", "--out", "--lines", "1", "--nostream", "--timestamp")).Stdout);
        var lastOut = JsonSerializer.Deserialize((await _home.OkAsync("logs", "talker", "--out", "--lines", "1", "--nostream", "--json")).Stdout.Trim(), TendJsonContext.Default.LogLineDto)!;
        Assert.StartsWith(TimeZoneInfo.ConvertTime(lastOut.Time!.Value, TimeZoneInfo.Local).ToString("HH:mm:ss.fff", System.Globalization.CultureInfo.InvariantCulture) + " line 000000050",
            (await _home.OkAsync("logs", "talker", "--out", "--lines", "1", "--nostream", "--timestamp", "HH:mm:ss.SSS", "--raw")).Stdout);
        Assert.Equal(2, (await _home.RunAsync("logs", "--nostream", "--timestamp", "talker")).ExitCode); // the app taken for a format
        Assert.Equal(2, (await _home.RunAsync("logs", "talker", "--nostream", "--timestamp", "--json")).ExitCode);

        CliResult json = await _home.OkAsync("logs", "talker", "--err", "--lines", "3", "--no-follow", "--json");
        var entry = JsonSerializer.Deserialize(json.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Last(), TendJsonContext.Default.LogLineDto)!;
        Assert.Equal("talker", entry.App);
        Assert.Equal(0, entry.Instance);
        Assert.Equal("err", entry.Stream);
        Assert.Equal("an error line", entry.Text);
        Assert.NotNull(entry.Time);
    }

    [Fact]
    public async Task OneOutFileForSeveralInstances_EachWritesItsOwn_AndLogsShowEveryLineOnce()
    {
        string dir = Path.Combine(_home.Dir, "app");
        Directory.CreateDirectory(dir);
        string config = Path.Combine(dir, "tend.yaml");
        File.WriteAllText(config, """
            apps:
              pair:
                run: sh -c 'echo "hello from $TEND_INSTANCE"; exec sleep 600'
                instances: 2
                log: { out_file: out.log }
            """);
        await _home.OkAsync("start", config);

        string first = Path.Combine(dir, "out.log"), second = Path.Combine(dir, "out-1.log");
        await Eventually.TrueAsync(() => File.Exists(first) && File.ReadAllText(first).Contains("hello from 0")
            && File.Exists(second) && File.ReadAllText(second).Contains("hello from 1"), "each instance's line in its own file");
        Assert.DoesNotContain("hello from 1", File.ReadAllText(first));
        Assert.DoesNotContain("hello from 0", File.ReadAllText(second));

        string[] lines = (await _home.OkAsync("logs", "pair", "--nostream")).Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines, l => l.StartsWith("pair#0 out | ", StringComparison.Ordinal) && l.EndsWith("hello from 0", StringComparison.Ordinal));
        Assert.Single(lines, l => l.StartsWith("pair#1 out | ", StringComparison.Ordinal) && l.EndsWith("hello from 1", StringComparison.Ordinal));
        Assert.Equal(2, lines.Count(l => l.Contains("hello from", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task ReloadLogs_AfterLogrotateMovedTheFile_NewLinesGoToANewFile_NoneLost()
    {
        // logrotate's default (create, no copytruncate): the file is renamed, then `postrotate tend reloadLogs`.
        string config = _home.WriteConfig($"""
            apps:
              ticker:
                cmd: {TendHome.Child}
                args: [--tick, "20", --sleep]
            """);
        await _home.OkAsync("start", config);
        string outLog = Path.Combine(_home.LogsDir, "ticker-0.out.log");
        await Eventually.TrueAsync(() => File.Exists(outLog) && File.ReadAllText(outLog).Contains("tick 5\n"), "ticks logged");
        string rotated = outLog + "-20261206";
        File.Move(outLog, rotated);

        CliResult reopen = await _home.OkAsync("reloadLogs");

        Assert.StartsWith("reopened the log files of ticker#0\n", reopen.Stdout);
        await Eventually.TrueAsync(() => File.Exists(outLog) && File.ReadAllText(outLog).Contains("tick"), "ticks in a new file at the path");
        await _home.OkAsync("stop", "ticker");
        // Every tick once, in order, across the two files: the old one kept what came before the reopen.
        long[] ticks = [.. (File.ReadAllText(rotated) + File.ReadAllText(outLog))
            .Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => long.Parse(l[(l.LastIndexOf("tick ", StringComparison.Ordinal) + 5)..], System.Globalization.CultureInfo.InvariantCulture))];
        Assert.Equal(Enumerable.Range(1, ticks.Length).Select(n => (long)n), ticks);
        Assert.Contains("tick", File.ReadAllText(rotated));

        CliResult unknown = await _home.RunAsync("reloadLogs", "nope");
        Assert.Equal(1, unknown.ExitCode);
    }

    [Fact]
    public async Task Flush_EmptiesTheLogFiles()
    {
        string config = _home.WriteConfig($"""
            apps:
              talker:
                cmd: {TendHome.Child}
                args: [--spew, "10", --sleep]
            """);
        await _home.OkAsync("start", config);
        string outLog = Path.Combine(_home.LogsDir, "talker-0.out.log");
        await Eventually.TrueAsync(() => File.Exists(outLog) && new FileInfo(outLog).Length > 0, "lines logged");

        await _home.OkAsync("flush", "talker");

        Assert.Equal(0, new FileInfo(outLog).Length);
    }

    [Fact]
    public async Task DiskFull_ChildKeepsRunning_DroppedLinesCounted()
    {
        string config = _home.WriteConfig($"""
            apps:
              full:
                cmd: {TendHome.Child}
                args: [--spew, "1000", --sleep]
                logs: {"{"} out_file: /dev/full {"}"}
            """);
        await _home.OkAsync("start", config);

        var detail = await Eventually.ReturnsAsync(
            async () => (await _home.DescribeAsync("full")).Instances.Single(), d => d!.DroppedLines >= 1000, "1000 dropped lines counted");
        Assert.Equal("online", detail.Status);
        Assert.True(ProcFs.IsRunning(detail.Pid!.Value));
        Assert.Contains("\"event_id\":1008", File.ReadAllText(Path.Combine(_home.Dir, "daemon.log")));
    }

    [Fact]
    public async Task Kill_WhileALogIsFollowed_EndsTheDaemonAndTheFollower()
    {
        string config = _home.WriteConfig($"""
            apps:
              web:
                cmd: {TendHome.Child}
                args: [--echo, hello, --sleep]
            """);
        await _home.OkAsync("start", config);
        int daemon = _home.DaemonPid!.Value;
        var psi = new System.Diagnostics.ProcessStartInfo(TestPaths.Cli, ["logs", "web"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.Environment["TEND_HOME"] = _home.Dir;
        using var logs = System.Diagnostics.Process.Start(psi)!;
        try
        {
            Assert.Contains("hello", await logs.StandardOutput.ReadLineAsync().WaitAsync(Eventually.DefaultTimeout));

            await _home.OkAsync("kill");

            // The follower's stream ends with the daemon's shutdown instead of holding it open for
            // the host's shutdown timeout (minutes), and `tend logs` ends with it.
            await Eventually.TrueAsync(() => !ProcFs.IsRunning(daemon), "the daemon gone");
            await logs.WaitForExitAsync().WaitAsync(Eventually.DefaultTimeout);
        }
        finally
        {
            if (!logs.HasExited) logs.Kill();
        }
    }
}
