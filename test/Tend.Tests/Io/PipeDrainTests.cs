using System.Diagnostics;
using System.Text;
using Tend.Io;

namespace Tend.Tests.Io;

public sealed class PipeDrainTests
{
    private static readonly TimeSpan s_limit = TimeSpan.FromSeconds(30);

    private sealed class Collect : IPipeSink
    {
        private readonly MemoryStream _data = new();
        private readonly TaskCompletionSource<Exception?> _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task<Exception?> Ended => _ended.Task;
        public string Text => Encoding.UTF8.GetString(_data.ToArray());

        public void OnData(ReadOnlySpan<byte> data) => _data.Write(data);
        public void OnDrained() { }
        public void OnEnd(Exception? fault) => _ended.TrySetResult(fault);
    }

    /// <summary>A pipe whose read end is non-blocking, as ChildProcess hands them out.</summary>
    private static unsafe (SafeFdHandle Read, SafeFdHandle Write) Pipe()
    {
        int* fds = stackalloc int[2];
        Assert.Equal(0, Interop.Sys.Pipe2(fds, Interop.Sys.O_CLOEXEC));
        Interop.Sys.Fcntl(fds[0], Interop.Sys.F_SETFL, Interop.Sys.O_NONBLOCK);
        return (new SafeFdHandle(fds[0]), new SafeFdHandle(fds[1]));
    }

    private static unsafe void Write(SafeFdHandle fd, string text)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(text);
        fixed (byte* p = bytes) Assert.Equal(bytes.Length, (int)Interop.Sys.Write(fd, p, (nuint)bytes.Length));
    }

    [Fact]
    public async Task Start_PipeAlreadyAtEndOfFile_EveryDrainEndsWithAllItsData()
    {
        // Readable and hung up before it is watched: the first turn can run before Start returns.
        for (int i = 0; i < 300; i++)
        {
            var (read, write) = Pipe();
            Write(write, $"line {i}\n");
            write.Dispose();
            var sink = new Collect();
            using PipeDrain drain = PipeDrain.Start(read, sink);
            Assert.Null(await sink.Ended.WaitAsync(s_limit));
            Assert.Equal($"line {i}\n", sink.Text);
            Assert.True(read.IsClosed, "the drain closes the pipe at its end");
        }
    }

    [Fact]
    public async Task Dispose_WhileTheWriterStillHoldsThePipe_EndsTheDrain()
    {
        var (read, write) = Pipe();
        using var _ = write;
        var sink = new Collect();
        PipeDrain drain = PipeDrain.Start(read, sink);
        Write(write, "before\n");

        drain.Dispose();

        Assert.Null(await sink.Ended.WaitAsync(s_limit));
        Assert.True(read.IsClosed);
    }

    [Fact]
    public async Task Drain_ManyShortWritesInARow_AllArriveInOrderThroughTheDelayedRearm()
    {
        // One short line per write(2), about every 20 µs (a few MB/s, slow enough for a quarter of the
        // pipe to take a 2 ms window's worth): the drain finds little per turn and waits before it arms
        // the pipe again. A delayed re-arm that never came would stall here with lines still in the pipe.
        var (read, write) = Pipe();
        var sink = new Collect();
        using PipeDrain drain = PipeDrain.Start(read, sink);
        var expected = new StringBuilder();
        await Task.Run(() =>
        {
            for (int i = 0; i < 20_000; i++)
            {
                string line = $"line {i:D6} of a child that writes one line per call\n";
                expected.Append(line);
                Write(write, line);
                long until = Stopwatch.GetTimestamp() + Stopwatch.Frequency / 50_000;
                while (Stopwatch.GetTimestamp() < until) Thread.SpinWait(10);
                if (i % 5_000 == 4_999) Thread.Sleep(20); // quiet spells in between: the immediate re-arm
            }
        }).WaitAsync(s_limit);
        write.Dispose();

        Assert.Null(await sink.Ended.WaitAsync(s_limit));
        Assert.Equal(expected.ToString(), sink.Text);
    }

    [Fact]
    public async Task Drain_ChunksArriveInOrder_UntilTheWriterCloses()
    {
        var (read, write) = Pipe();
        var sink = new Collect();
        using PipeDrain drain = PipeDrain.Start(read, sink);
        var expected = new StringBuilder();
        for (int i = 0; i < 2000; i++)
        {
            string line = $"{i:D6} {new string('x', i % 300)}\n";
            Write(write, line);
            expected.Append(line);
        }
        write.Dispose();

        Assert.Null(await sink.Ended.WaitAsync(s_limit));
        Assert.Equal(expected.ToString(), sink.Text);
    }
}
