using Tend.Config;
using Tend.Logs;

namespace Tend.Tests.Logs;

public sealed class LogReaderTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static string Stamp(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'");

    [Fact]
    public void ReadLast_BigFile_ReturnsExactlyTheLastLines()
    {
        string path = _dir.File("big.log");
        var t0 = LogTest.SomeTime;
        using (var w = new StreamWriter(path))
        {
            // Lines of varying length so block boundaries fall everywhere.
            for (int i = 1; i <= 300_000; i++)
                w.Write($"{Stamp(t0.AddMilliseconds(i))} line {i} {new string('x', i % 97)}\n");
        }

        var last = LogReader.ReadLast(path, 1000, LogFormat.Text, "web", 1, LogStream.Err);

        Assert.Equal(1000, last.Count);
        for (int k = 0; k < 1000; k++)
        {
            int i = 299_001 + k;
            Assert.Equal($"line {i} {new string('x', i % 97)}", last[k].Text);
            Assert.Equal(t0.AddMilliseconds(i), last[k].Time);
            Assert.Equal(("web", 1, LogStream.Err), (last[k].App, last[k].Instance, last[k].Stream));
        }
    }

    [Fact]
    public void ReadLast_MoreLinesThanTheFileHas_ReturnsAll_IncludingAPartialLastLine()
    {
        string path = _dir.File("small.log");
        File.WriteAllText(path, "a\n\nb\nc without newline");

        var lines = LogReader.ReadLast(path, 10, LogFormat.Text, "web", 0, LogStream.Out);

        Assert.Equal(["a", "", "b", "c without newline"], lines.Select(l => l.Text));
        Assert.Equal(["b", "c without newline"], LogReader.ReadLast(path, 2, LogFormat.Text, "web", 0, LogStream.Out).Select(l => l.Text));
    }

    [Fact]
    public void ReadLast_LinesWithoutPrefix_KeepWholeTextAndNoTime()
    {
        string path = _dir.File("mixed.log");
        File.WriteAllText(path, "2026-11-21T14:08:24.123Z stamped\nplain text\n2026-13-21T14:08:24.123Z bad month\n{\"not\":\"ours\"}\n");

        var text = LogReader.ReadLast(path, 10, LogFormat.Text, "web", 0, LogStream.Out);
        var json = LogReader.ReadLast(path, 10, LogFormat.Json, "web", 0, LogStream.Out);

        Assert.Equal([LogTest.SomeTime, null, null, null], text.Select(l => l.Time));
        Assert.Equal(["stamped", "plain text", "2026-13-21T14:08:24.123Z bad month", "{\"not\":\"ours\"}"], text.Select(l => l.Text));
        Assert.All(json, l => Assert.Null(l.Time));
        Assert.Equal("{\"not\":\"ours\"}", json[^1].Text);
    }

    [Fact]
    public void ReadLast_MissingOrEmptyFile_ReturnsNothing()
    {
        File.WriteAllText(_dir.File("empty.log"), "");
        Assert.Empty(LogReader.ReadLast(_dir.File("missing.log"), 10, LogFormat.Text, "web", 0, LogStream.Out));
        Assert.Empty(LogReader.ReadLast(_dir.File("empty.log"), 10, LogFormat.Text, "web", 0, LogStream.Out));
    }

    [Fact]
    public void MergeByTime_InterleavesSources_KeepsUntimedLinesWithTheirPredecessor()
    {
        var t = LogTest.SomeTime;
        LogLine L(int ms, string text, int instance) => new(t.AddMilliseconds(ms), "web", instance, LogStream.Out, text);
        LogLine[] a = [L(1, "a1", 0), L(4, "a4", 0), new(null, "web", 0, LogStream.Out, "a4-cont"), L(6, "a6", 0)];
        LogLine[] b = [L(2, "b2", 1), L(4, "b4", 1), L(5, "b5", 1)];

        var merged = LogReader.MergeByTime([a, b]);
        var last3 = LogReader.MergeByTime([a, b], lines: 3);

        Assert.Equal(["a1", "b2", "a4", "a4-cont", "b4", "b5", "a6"], merged.Select(l => l.Text));
        Assert.Equal(["b4", "b5", "a6"], last3.Select(l => l.Text));
    }

    [Fact]
    public async Task ReadLastMerged_TwoWriters_MergedByTime()
    {
        var time = new FixedTimeProvider(LogTest.SomeTime);
        string outPath = _dir.File("web-0.out.log"), errPath = _dir.File("web-0.err.log");
        await using var outWriter = new LogWriter("web", 0, LogStream.Out, outPath, LogSpec.Default, time);
        await using var errWriter = new LogWriter("web", 0, LogStream.Err, errPath, LogSpec.Default, time);
        using var outPipe = new TestPipe();
        using var errPipe = new TestPipe();
        outWriter.Start(outPipe.ReadEnd);
        errWriter.Start(errPipe.ReadEnd);

        outPipe.Write("first\n");
        await LogTest.WaitUntilAsync(() => File.ReadAllText(outPath).Length > 0);
        time.Now = time.Now.AddSeconds(1);
        errPipe.Write("second\n");
        await LogTest.WaitUntilAsync(() => File.ReadAllText(errPath).Length > 0);
        time.Now = time.Now.AddSeconds(1);
        outPipe.Write("third\n");
        outPipe.Close();
        errPipe.Close();
        await Task.WhenAll(outWriter.Completion, errWriter.Completion).WaitAsync(LogTest.Timeout);

        var merged = LogReader.ReadLastMerged(
            [new LogSource(outPath, "web", 0, LogStream.Out), new LogSource(errPath, "web", 0, LogStream.Err)], 10, LogFormat.Text);

        Assert.Equal([("first", LogStream.Out), ("second", LogStream.Err), ("third", LogStream.Out)], merged.Select(l => (l.Text, l.Stream)));
    }
}
