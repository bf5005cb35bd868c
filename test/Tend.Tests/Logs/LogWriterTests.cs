using System.Text;
using System.Text.Json;
using Tend.Config;
using Tend.Logs;

namespace Tend.Tests.Logs;

public sealed class LogWriterTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static LogSpec Text(bool timestamps = true) => LogSpec.Default with { Timestamps = timestamps };

    private LogWriter NewWriter(LogSpec spec, TimeProvider? time = null, string name = "web.log", Action<long>? onDropped = null) =>
        new("web", 0, LogStream.Out, _dir.File(name), spec, time ?? TimeProvider.System, onDropped);

    /// <summary>Feeds <paramref name="chunks"/> through a real pipe and waits for the writer to finish.</summary>
    private static async Task PumpAsync(LogWriter writer, params byte[][] chunks)
    {
        using var pipe = new TestPipe();
        writer.Start(pipe.ReadEnd);
        foreach (var chunk in chunks) pipe.Write(chunk);
        pipe.Close();
        await writer.Completion.WaitAsync(LogTest.Timeout);
    }

    [Fact]
    public async Task Pump_Timestamps_PrefixEveryLineWithParsableUtcTime()
    {
        await using var writer = NewWriter(Text(), new FixedTimeProvider(LogTest.SomeTime));
        await PumpAsync(writer, "hello\nworld\n"u8.ToArray());

        Assert.Equal("2026-11-21T14:08:24.123Z hello\n2026-11-21T14:08:24.123Z world\n", File.ReadAllText(writer.Path));
        var lines = LogReader.ReadLast(writer.Path, 10, LogFormat.Text, "web", 0, LogStream.Out);
        Assert.Equal(["hello", "world"], lines.Select(l => l.Text));
        Assert.All(lines, l => Assert.Equal(LogTest.SomeTime, l.Time));
    }

    [Fact]
    public async Task Pump_TimestampsOff_PassesBytesThrough()
    {
        byte[] data = [.. "plain\r\n"u8, 0, 1, 0xFF, 0xC3, (byte)'\n', .. "é \"q\"\n"u8];
        await using var writer = NewWriter(Text(timestamps: false));
        await PumpAsync(writer, data[..5], data[5..]);

        Assert.Equal(data, File.ReadAllBytes(writer.Path));
    }

    [Fact]
    public async Task Pump_Json_EscapesQuotesNewlinesAndControlChars()
    {
        byte[] line = [.. "say \"hi\" back\\slash\ttab\rcr"u8, 0x01, 0x1F, (byte)' ', 0xFF, .. " é €\n"u8];
        await using var writer = NewWriter(Text() with { Format = LogFormat.Json }, new FixedTimeProvider(LogTest.SomeTime));
        await PumpAsync(writer, line);

        string written = File.ReadAllText(writer.Path);
        Assert.EndsWith("}\n", written);
        Assert.Single(written.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("\\u0001\\u001f", written);
        using var doc = JsonDocument.Parse(written);
        var root = doc.RootElement;
        Assert.Equal("2026-11-21T14:08:24.123Z", root.GetProperty("time").GetString());
        Assert.Equal("web", root.GetProperty("app").GetString());
        Assert.Equal(0, root.GetProperty("instance").GetInt32());
        Assert.Equal("out", root.GetProperty("stream").GetString());
        Assert.Equal("say \"hi\" back\\slash\ttab\rcr\u0001\u001f \uFFFD é €", root.GetProperty("text").GetString());

        var read = Assert.Single(LogReader.ReadLast(writer.Path, 5, LogFormat.Json, "web", 0, LogStream.Out));
        Assert.Equal(LogTest.SomeTime, read.Time);
        Assert.Equal(root.GetProperty("text").GetString(), read.Text);
    }

    [Fact]
    public async Task Pump_PartialLastLine_WrittenWholeWithNewline()
    {
        await using var writer = NewWriter(Text(), new FixedTimeProvider(LogTest.SomeTime));
        using var child = LogTest.StartChild("--echo", "first", "--partial", "no newline at the end");
        writer.Start(TestPipe.ReadEndOf(child));
        await writer.Completion.WaitAsync(LogTest.Timeout);
        await LogTest.WaitForExitAsync(child);

        Assert.Equal("2026-11-21T14:08:24.123Z first\n2026-11-21T14:08:24.123Z no newline at the end\n", File.ReadAllText(writer.Path));
    }

    [Fact]
    public async Task Pump_OneMegabyteLine_KeptWholeWithOnePrefix()
    {
        byte[] big = new byte[1024 * 1024];
        big.AsSpan().Fill((byte)'a');
        var chunks = big.Chunk(10_000).Append("\nnext\n"u8.ToArray()).ToArray();
        await using var writer = NewWriter(Text(), new FixedTimeProvider(LogTest.SomeTime));
        await PumpAsync(writer, chunks);

        string[] lines = File.ReadAllText(writer.Path).Split('\n');
        Assert.Equal(3, lines.Length); // the big line, "next", and the empty string after the last newline
        Assert.Equal("2026-11-21T14:08:24.123Z " + new string('a', big.Length), lines[0]);
        Assert.Equal("2026-11-21T14:08:24.123Z next", lines[1]);
    }

    [Fact]
    public async Task Pump_LineLongerThanMaxLineBytes_SplitIntoMarkedPieces()
    {
        byte[] huge = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Range(0, 20_000).Select(i => $"{i:D9}|")));
        await using var writer = new LogWriter("web", 0, LogStream.Out, _dir.File("web.log"), Text(timestamps: false), TimeProvider.System)
        {
            MaxLineBytes = 64 * 1024,
        };
        await PumpAsync(writer, huge.Chunk(5000).ToArray());

        string[] pieces = File.ReadAllText(writer.Path).TrimEnd('\n').Split('\n');
        Assert.Equal(4, pieces.Length); // 200,000 bytes = 3 × 65,536 + 3,392
        Assert.All(pieces[..^1], p => Assert.EndsWith(LogWriter.SplitMarker, p));
        Assert.DoesNotContain(LogWriter.SplitMarker, pieces[^1]);
        Assert.Equal(Encoding.ASCII.GetString(huge), string.Concat(pieces.Select(p => p.Replace(LogWriter.SplitMarker, ""))));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Pump_TwoMillionLines_AllArriveInOrder(bool blocks)
    {
        const int N = 2_000_000;
        await using var writer = NewWriter(Text() with { MaxSizeBytes = 0 });
        using var child = blocks ? LogTest.StartChild("--spew", $"{N}", "--block") : LogTest.StartChild("--spew", $"{N}");
        writer.Start(TestPipe.ReadEndOf(child));
        await writer.Completion.WaitAsync(LogTest.Timeout);
        await LogTest.WaitForExitAsync(child);

        Assert.Equal(0, writer.DroppedLines);
        Assert.Equal(N * 125L, new FileInfo(writer.Path).Length);
        Assert.Equal(N, LogTest.AssertSpewLines([writer.Path], prefixLength: 25, 1, N));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Rotation_SmallMaxSize_NoLineLostAcrossRotatedFiles(bool timestamps)
    {
        const int N = 50_000; // 5 or 6.25 MB into 1 MB files
        int lineLength = timestamps ? 125 : 100;
        var spec = Text(timestamps) with { MaxSizeBytes = 1_000_000, MaxFiles = 10 };
        await using var writer = NewWriter(spec);
        using var child = LogTest.StartChild("--spew", $"{N}");
        writer.Start(TestPipe.ReadEndOf(child));
        await writer.Completion.WaitAsync(LogTest.Timeout);
        await LogTest.WaitForExitAsync(child);

        int rotated = (int)((N * (long)lineLength + spec.MaxSizeBytes - 1) / spec.MaxSizeBytes) - 1;
        var files = Enumerable.Range(1, rotated).Reverse().Select(i => $"{writer.Path}.{i}").Append(writer.Path).ToList();
        Assert.All(files, f => Assert.True(File.Exists(f), f));
        Assert.False(File.Exists($"{writer.Path}.{rotated + 1}"));
        Assert.All(files, f => Assert.InRange(new FileInfo(f).Length, 1, spec.MaxSizeBytes));
        Assert.Equal(N, LogTest.AssertSpewLines(files, prefixLength: lineLength - 100, 1, N));
    }

    [Fact]
    public async Task Rotation_MaxFiles_KeepsOnlyTheNewestFiles()
    {
        const int N = 50_000;
        var spec = Text() with { MaxSizeBytes = 500_000, MaxFiles = 3 };
        await using var writer = NewWriter(spec);
        using var child = LogTest.StartChild("--spew", $"{N}");
        writer.Start(TestPipe.ReadEndOf(child));
        await writer.Completion.WaitAsync(LogTest.Timeout);
        await LogTest.WaitForExitAsync(child);

        Assert.Equal(["web.log", "web.log.1", "web.log.2"], Directory.GetFiles(_dir.Path).Select(Path.GetFileName).Order());
        string[] files = [$"{writer.Path}.2", $"{writer.Path}.1", writer.Path];
        long firstKept = N - (files.Sum(f => new FileInfo(f).Length) / 125) + 1;
        Assert.Equal(N - firstKept + 1, LogTest.AssertSpewLines(files, prefixLength: 25, firstKept, N));
    }

    [Fact]
    public async Task DiskFull_CountsDroppedLines_AndKeepsDrainingThePipe()
    {
        const int N = 100_000;
        var reports = new List<long>();
        await using var writer = new LogWriter("web", 0, LogStream.Out, "/dev/full", Text(), TimeProvider.System,
            count => { lock (reports) reports.Add(count); });
        using var child = LogTest.StartChild("--spew", $"{N}");
        writer.Start(TestPipe.ReadEndOf(child));
        // The child finishing at all proves the pipe kept being drained: 10 MB does not fit in it.
        await LogTest.WaitForExitAsync(child);
        await writer.Completion.WaitAsync(LogTest.Timeout);

        Assert.Equal(N, writer.DroppedLines);
        lock (reports)
        {
            Assert.NotEmpty(reports);
            Assert.Equal(N, reports[^1]);
            Assert.Equal(reports.Order(), reports);
        }
    }

    [Fact]
    public async Task DiskFull_ThenWritable_NextChunksAreWrittenAgain()
    {
        // The directory of the log file is a regular file at first: opening fails, lines are
        // dropped. Once it is a directory again, the next chunk reopens and writes.
        string blocker = _dir.File("logs");
        File.WriteAllText(blocker, "");
        await using var writer = new LogWriter("web", 0, LogStream.Out, Path.Combine(blocker, "web.log"), Text(timestamps: false), TimeProvider.System);
        using var pipe = new TestPipe();
        writer.Start(pipe.ReadEnd);
        pipe.Write("lost\n");
        await LogTest.WaitUntilAsync(() => writer.DroppedLines == 1);

        File.Delete(blocker);
        Directory.CreateDirectory(blocker);
        pipe.Write("kept\n");
        pipe.Close();
        await writer.Completion.WaitAsync(LogTest.Timeout);

        Assert.Equal("kept\n", File.ReadAllText(writer.Path));
        Assert.Equal(1, writer.DroppedLines);
    }

    [Fact]
    public async Task Truncate_WhilePumping_EmptiesFileAndDeletesRotated()
    {
        await using var writer = NewWriter(Text(timestamps: false) with { MaxFiles = 3 });
        File.WriteAllText(writer.Path + ".1", "old\n");
        File.WriteAllText(writer.Path + ".2", "older\n");
        File.WriteAllText(writer.Path + ".7", "left over from a larger max_files\n");
        using var pipe = new TestPipe();
        writer.Start(pipe.ReadEnd);
        pipe.Write("before\n");
        await LogTest.WaitUntilAsync(() => File.Exists(writer.Path) && new FileInfo(writer.Path).Length > 0);

        writer.Truncate();

        Assert.Equal(0, new FileInfo(writer.Path).Length);
        Assert.Equal(["web.log"], Directory.GetFiles(_dir.Path).Select(Path.GetFileName));
        pipe.Write("after\n");
        pipe.Close();
        await writer.Completion.WaitAsync(LogTest.Timeout);
        Assert.Equal("after\n", File.ReadAllText(writer.Path));
    }

    [Fact]
    public void TruncateFiles_NotRunning_EmptiesFileAndDeletesRotated()
    {
        string path = _dir.File("api.log");
        File.WriteAllText(path, "x\n");
        File.WriteAllText(path + ".1", "y\n");
        File.WriteAllText(path + ".12", "z\n");
        File.WriteAllText(path + ".bak", "not ours\n");

        LogWriter.TruncateFiles(path);
        LogWriter.TruncateFiles(_dir.File("missing.log"));

        Assert.Equal(0, new FileInfo(path).Length);
        Assert.Equal(["api.log", "api.log.bak"], Directory.GetFiles(_dir.Path).Select(Path.GetFileName).Order());
    }

    [Fact]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public async Task Pump_AppendsToExistingFile_CreatesMissingDirectoriesWithMode0640()
    {
        string path = Path.Combine(_dir.Path, "a", "b", "web.log");
        await using (var first = new LogWriter("web", 0, LogStream.Out, path, Text(timestamps: false), TimeProvider.System))
            await PumpAsync(first, "one\n"u8.ToArray());
        await using (var second = new LogWriter("web", 0, LogStream.Out, path, Text(timestamps: false), TimeProvider.System))
            await PumpAsync(second, "two\n"u8.ToArray());

        Assert.Equal("one\ntwo\n", File.ReadAllText(path));
        var mode = File.GetUnixFileMode(path);
        Assert.Equal(UnixFileMode.None, mode & ~(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead));
    }

    [Fact]
    public async Task Pump_IdlePipe_FlushesWithoutWaitingForEof()
    {
        await using var writer = NewWriter(Text(timestamps: false));
        using var pipe = new TestPipe();
        writer.Start(pipe.ReadEnd);
        pipe.Write("visible before EOF\n");

        await LogTest.WaitUntilAsync(() => File.Exists(writer.Path) && File.ReadAllText(writer.Path) == "visible before EOF\n");
        pipe.Close();
        await writer.Completion.WaitAsync(LogTest.Timeout);
    }

    [Fact]
    public async Task Subscribe_ReceivesLinesAsWritten_AndEndsAtEof()
    {
        var time = new FixedTimeProvider(LogTest.SomeTime);
        await using var writer = new LogWriter("api", 2, LogStream.Err, _dir.File("api.log"), Text(), time);
        using var cts = new CancellationTokenSource(LogTest.Timeout);
        var subscription = writer.SubscribeAsync(cts.Token);
        Assert.Equal(1, writer.SubscriberCount);
        using var pipe = new TestPipe();
        writer.Start(pipe.ReadEnd);
        pipe.Write("one\ntw");
        pipe.Write("o\nthree");
        pipe.Close();

        var received = new List<LogLine>();
        await foreach (var line in subscription.WithCancellation(cts.Token))
            received.Add(line);

        Assert.Equal(["one", "two", "three"], received.Select(l => l.Text));
        Assert.All(received, l => Assert.Equal(new LogLine(LogTest.SomeTime, "api", 2, LogStream.Err, l.Text), l));
        Assert.Equal(0, writer.SubscriberCount);
    }

    [Fact]
    public async Task Subscribe_Cancelled_Unsubscribes()
    {
        await using var writer = NewWriter(Text());
        using var cts = new CancellationTokenSource();
        var subscription = writer.SubscribeAsync(cts.Token);
        Assert.Equal(1, writer.SubscriberCount);

        cts.Cancel();

        Assert.Equal(0, writer.SubscriberCount);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var _ in subscription) { }
        }).WaitAsync(LogTest.Timeout);
    }

    [Fact]
    public async Task Subscribe_SlowReader_DropsOldestAndNeverBlocksThePump()
    {
        const int N = 30_000;
        await using var writer = NewWriter(Text() with { MaxSizeBytes = 0 });
        using var cts = new CancellationTokenSource(LogTest.Timeout);
        var subscription = writer.SubscribeAsync(cts.Token);
        using var child = LogTest.StartChild("--spew", $"{N}");
        writer.Start(TestPipe.ReadEndOf(child));
        await writer.Completion.WaitAsync(LogTest.Timeout); // nobody reads the subscription meanwhile

        var received = new List<string>();
        await foreach (var line in subscription.WithCancellation(cts.Token))
            received.Add(line.Text);
        await LogTest.WaitForExitAsync(child);

        Assert.Equal(LogWriter.SubscriberCapacity, received.Count);
        Assert.Equal($"line {N:D9} ", received[^1][..15]);
        Assert.Equal(N, LogTest.AssertSpewLines([writer.Path], prefixLength: 25, 1, N));
    }
}
