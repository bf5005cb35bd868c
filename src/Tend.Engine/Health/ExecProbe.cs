using System.Net.Sockets;
using System.Text;
using Tend.Processes;

namespace Tend.Health;

/// <summary>
/// Runs a command in the app's working directory and environment; exit 0 passes.
/// </summary>
/// <remarks>
/// <para>The command is started like an app (posix_spawn, its own process group, held by a pidfd), so
/// a timeout SIGKILLs the whole group, and whatever it forked goes with it. The check waits on the
/// child's <see cref="ChildProcess.Exited"/> task: no thread is blocked per running probe.</para>
/// <para>Why the pipes are read through a <see cref="Socket"/>: <see cref="ChildProcess"/> hands out its
/// pipe ends as blocking <see cref="FileStream"/>s, whose ReadAsync would park a thread-pool thread for as
/// long as the command runs. A Socket wrapped around the same descriptor makes it non-blocking and reads
/// it through the runtime's epoll loop (System.IO.Pipes does the same on Unix). The pipes must be read
/// while the command runs, or a chatty command would fill one and block; only the head is kept, for
/// the failure detail. The Socket does not own the descriptor and is disposed (which takes it out of
/// the epoll loop) before <see cref="ChildProcess.DisposeAsync"/> closes it, so a later socket given the
/// same number is not mistaken for it.</para>
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
            child = ChildProcess.Start(new SpawnRequest(_argv[0], _argv[1..], _context.Cwd, _context.Environment), time);
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
    private static async Task<string> ReadHeadAsync(Stream? pipe, CancellationToken ct)
    {
        if (pipe is not FileStream file) return "";
        var handle = file.SafeFileHandle;
        bool added = false;
        byte[] head = new byte[HeadBytes];
        int kept = 0;
        try
        {
            handle.DangerousAddRef(ref added);
            using var socket = new Socket(new SafeSocketHandle(handle.DangerousGetHandle(), ownsHandle: false));
            byte[] scratch = new byte[HeadBytes];
            while (true)
            {
                Memory<byte> into = kept < head.Length ? head.AsMemory(kept) : scratch;
                int n = await socket.ReceiveAsync(into, SocketFlags.None, ct).ConfigureAwait(false);
                if (n == 0) break;
                if (kept < head.Length) kept += n;
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException or IOException)
        {
            // Cancelled at the deadline, or the pipe went away: keep what was read.
        }
        finally
        {
            if (added) handle.DangerousRelease();
        }
        return Encoding.UTF8.GetString(head, 0, kept);
    }
}
