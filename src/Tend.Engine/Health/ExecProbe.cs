using System.Text;
using Tend.Io;
using Tend.Processes;

namespace Tend.Health;

/// <summary>
/// Runs a command in the app's working directory and environment; exit 0 passes.
/// </summary>
/// <remarks>
/// <para>The command is started like an app (posix_spawn, its own process group, held by a pidfd), so
/// a timeout SIGKILLs the whole group, and whatever it forked goes with it. The check waits on the
/// child's <see cref="ChildProcess.Exited"/> task: no thread is blocked per running probe.</para>
/// <para>The pipes must be read while the command runs, or a chatty command would fill one and block.
/// They are drained like an app's output (<see cref="PipeDrain"/>: the process's one epoll set, a pool
/// thread per readable turn, no thread waiting), and only the head is kept, for the failure detail.</para>
/// </remarks>
public sealed class ExecProbe : IProbe
{
    private const int HeadBytes = 4096;

    private readonly string[] _argv;
    private readonly ProbeContext _context;
    private readonly TimeSpan _timeout;

    /// <param name="argv">The program (path or name looked up on the context's PATH), then its arguments.</param>
    public ExecProbe(IReadOnlyList<string> argv, ProbeContext context, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(argv);
        ArgumentNullException.ThrowIfNull(context);
        if (argv.Count == 0 || string.IsNullOrEmpty(argv[0])) throw new ArgumentException("the command is empty", nameof(argv));
        _argv = [.. argv];
        _context = context;
        _timeout = timeout;
    }

    public async Task<ProbeResult> CheckAsync(CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        TimeProvider time = _context.Time;
        long started = time.GetTimestamp();
        ChildProcess child;
        try
        {
            child = ChildProcess.Start(new SpawnRequest(_argv[0], _argv[1..], _context.Cwd, _context.Environment) { Isolation = _context.Isolation }, time);
        }
        catch (Exception e) when (e is SpawnException or ArgumentException)
        {
            return new ProbeResult(false, time.GetElapsedTime(started), ProbeText.Line(e.Message));
        }

        // Disposing kills the group if it is still running and waits for the exit: nothing outlives a check.
        await using (child.ConfigureAwait(false))
        {
            using var deadline = new CancellationTokenSource(_timeout, time);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, deadline.Token);
            // Drained until EOF or the deadline, even past the exit: what the command wrote before it
            // exited may still sit in the pipe.
            Task<string> stdout = ReadHeadAsync(child.StandardOutput, linked.Token);
            Task<string> stderr = ReadHeadAsync(child.StandardError, linked.Token);
            ExitStatus status;
            try
            {
                status = await child.Exited.WaitAsync(linked.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                await child.StopAsync(Signals.SIGKILL, TimeSpan.Zero, CancellationToken.None).ConfigureAwait(false);
                await Task.WhenAll(stdout, stderr).ConfigureAwait(false);
                ct.ThrowIfCancellationRequested();
                return ProbeText.TimedOut(_timeout, time.GetElapsedTime(started));
            }
            // The leader's exit SIGKILLed the rest of its group, so the write ends close now unless a
            // grandchild escaped into a session of its own; the deadline bounds that case.
            await Task.WhenAll(stdout, stderr).ConfigureAwait(false);
            TimeSpan latency = time.GetElapsedTime(started);
            if (status.IsSuccess) return new ProbeResult(true, latency, status.ToString());
            string said = ProbeText.Line(await stderr.ConfigureAwait(false));
            if (said.Length == 0) said = ProbeText.Line(await stdout.ConfigureAwait(false));
            return new ProbeResult(false, latency, said.Length == 0 ? status.ToString() : $"{status}: {said}");
        }
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    public override string ToString() => "exec " + string.Join(' ', _argv);

    /// <summary>Reads <paramref name="pipe"/> to EOF (or until cancelled), keeping the first
    /// <see cref="HeadBytes"/>. Never throws.</summary>
    private static async Task<string> ReadHeadAsync(SafeFdHandle? pipe, CancellationToken ct)
    {
        if (pipe is null) return "";
        var head = new HeadSink();
        PipeDrain drain;
        try
        {
            drain = PipeDrain.Start(pipe, head);
        }
        catch (IOException)
        {
            return ""; // not watchable (no fds): the exit status still decides
        }
        using (ct.Register(static d => ((PipeDrain)d!).Dispose(), drain))
        {
            await head.Ended.ConfigureAwait(false);
        }
        return head.Text;
    }

    /// <summary>Keeps the first <see cref="HeadBytes"/> of what a pipe says and discards the rest.</summary>
    private sealed class HeadSink : IPipeSink
    {
        private readonly byte[] _head = new byte[HeadBytes];
        private readonly TaskCompletionSource _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _kept;

        public Task Ended => _ended.Task;

        public string Text => Encoding.UTF8.GetString(_head, 0, Volatile.Read(ref _kept));

        public void OnData(ReadOnlySpan<byte> data)
        {
            int take = Math.Min(data.Length, _head.Length - _kept);
            data[..take].CopyTo(_head.AsSpan(_kept));
            Volatile.Write(ref _kept, _kept + take);
        }

        public void OnDrained()
        {
        }

        public void OnEnd(Exception? fault) => _ended.TrySetResult();
    }
}
