using System.Diagnostics;
using System.IO.Pipes;
using System.Runtime.InteropServices;

namespace Tend.Tests.Logs;

/// <summary>A fresh directory under /tmp, deleted with everything in it on dispose.</summary>
internal sealed class TempDir : IDisposable
{
    public TempDir() => Directory.CreateDirectory(Path);

    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "tend-logs-" + Guid.NewGuid().ToString("N"));

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }
}

/// <summary>Wall clock for timers and timestamps, but a UTC "now" the test chooses.</summary>
internal sealed class FixedTimeProvider(DateTimeOffset now) : TimeProvider
{
    public DateTimeOffset Now { get; set; } = now;

    public override DateTimeOffset GetUtcNow() => Now;
}

/// <summary>A real pipe: the writer gets the read end, the test writes into the other end.</summary>
internal sealed class TestPipe : IDisposable
{
    private readonly AnonymousPipeServerStream _readEnd = new(PipeDirection.In);
    private readonly AnonymousPipeClientStream _writeEnd;

    public TestPipe()
    {
        // The client stream wraps the server's one handle to the write end (no inheritable copy
        // exists), so disposing it is what makes the reader see EOF.
        _writeEnd = new AnonymousPipeClientStream(PipeDirection.Out, _readEnd.ClientSafePipeHandle);
    }

    /// <summary>The read end, made non-blocking as the engine's pipes are; a log writer takes it over.</summary>
    public SafeHandle ReadEnd => NonBlocking(_readEnd.SafePipeHandle);

    /// <summary>Sets O_NONBLOCK on <paramref name="pipe"/>, as <see cref="Processes.ChildProcess"/> does on the ends it hands out.</summary>
    public static SafeHandle NonBlocking(SafeHandle pipe)
    {
        int fd = (int)pipe.DangerousGetHandle();
        Interop.Sys.Fcntl(fd, Interop.Sys.F_SETFL, Interop.Sys.Fcntl(fd, Interop.Sys.F_GETFL, 0) | Interop.Sys.O_NONBLOCK);
        return pipe;
    }

    /// <summary>The read end of a <see cref="System.Diagnostics.Process"/>'s redirected stdout, for a log writer.</summary>
    public static SafeHandle ReadEndOf(System.Diagnostics.Process child) =>
        NonBlocking(((PipeStream)child.StandardOutput.BaseStream).SafePipeHandle);

    public void Write(ReadOnlySpan<byte> data) => _writeEnd.Write(data);

    public void Write(string text) => Write(System.Text.Encoding.UTF8.GetBytes(text));

    /// <summary>Closes the write end: the reader sees EOF.</summary>
    public void Close() => _writeEnd.Dispose();

    public void Dispose()
    {
        _writeEnd.Dispose();
        _readEnd.Dispose();
    }
}

internal static class LogTest
{
    /// <summary>The bound on every await in these tests.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    public static readonly DateTimeOffset SomeTime = new(2026, 11, 21, 14, 8, 24, 123, TimeSpan.Zero);

    /// <summary>test/Tend.TestChild/bin/&lt;config&gt;/net10.0/testchild, next to our own output.</summary>
    public static string TestChildPath
    {
        get
        {
            var tfmDir = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd('/'));
            string config = tfmDir.Parent!.Name;
            string testDir = tfmDir.Parent.Parent!.Parent!.Parent!.FullName;
            return Path.Combine(testDir, "Tend.TestChild", "bin", config, tfmDir.Name, "testchild");
        }
    }

    /// <summary>Starts testchild with stdout on a pipe; it exits on its own after doing its job.</summary>
    public static Process StartChild(params string[] args)
    {
        var psi = new ProcessStartInfo(TestChildPath)
        {
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (string a in args) psi.ArgumentList.Add(a);
        psi.ArgumentList.Add("--exit-after");
        psi.ArgumentList.Add("0ms");
        return Process.Start(psi)!;
    }

    public static async Task WaitForExitAsync(Process process)
    {
        using var cts = new CancellationTokenSource(Timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill();
            throw new TimeoutException("testchild did not exit");
        }
    }

    public static async Task WaitUntilAsync(Func<bool> condition)
    {
        var sw = Stopwatch.StartNew();
        while (!condition())
        {
            if (sw.Elapsed > Timeout) throw new TimeoutException("condition not met");
            await Task.Delay(10);
        }
    }

    /// <summary>
    /// Scans files (oldest first) of testchild --spew lines and checks they hold exactly the
    /// line numbers first..last, in order, each line whole. Returns the number of lines.
    /// </summary>
    public static long AssertSpewLines(IEnumerable<string> files, int prefixLength, long first, long last)
    {
        long expected = first;
        byte[] buffer = new byte[1 << 20];
        int lineLength = prefixLength + 100;
        foreach (string file in files)
        {
            using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1);
            int fill = 0;
            while (true)
            {
                int n = stream.Read(buffer, fill, buffer.Length - fill);
                fill += n;
                int pos = 0;
                while (fill - pos >= lineLength)
                {
                    var line = buffer.AsSpan(pos, lineLength);
                    if (line[^1] != (byte)'\n' || !line[prefixLength..].StartsWith("line "u8))
                        Assert.Fail($"{file}: malformed line after {expected - 1}: {System.Text.Encoding.UTF8.GetString(line)}");
                    long number = long.Parse(line.Slice(prefixLength + 5, 9));
                    if (number != expected) Assert.Fail($"{file}: expected line {expected}, found {number}");
                    expected++;
                    pos += lineLength;
                }
                Array.Copy(buffer, pos, buffer, 0, fill - pos);
                fill -= pos;
                if (n == 0) break;
            }
            Assert.True(fill == 0, $"{file}: {fill} trailing bytes that are not a whole line");
        }
        Assert.Equal(last, expected - 1);
        return expected - first;
    }
}
