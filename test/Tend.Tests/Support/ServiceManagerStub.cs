using System.Runtime.InteropServices;
using System.Text;
using Tend.Io;
using Tend.Processes;

namespace Tend.Tests.Support;

/// <summary>
/// The service manager's end of NOTIFY_SOCKET, as systemd holds it for a Type=notify unit: a real
/// datagram socket that the daemon under test is pointed at, every message it sent, in order, and a
/// descriptor store (FDSTORE=1 with SCM_RIGHTS, FDSTOREREMOVE=1) that a restarted daemon gets back
/// as LISTEN_FDS, as systemd does after a crash.
/// </summary>
public sealed class ServiceManagerStub : IDisposable
{
    private const int MaxFds = 253;
    private readonly CredentialSocket _socket;
    private readonly List<string> _messages = [];
    private readonly List<(string Name, SafeFdHandle Fd)> _store = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _reader;

    public ServiceManagerStub(string dir)
    {
        _socket = CredentialSocket.Bind(System.IO.Path.Combine(dir, "sm-notify.sock"));
        _reader = Task.Run(ReadAsync);
    }

    public string Path => _socket.Path;

    public IReadOnlyList<string> Messages { get { lock (_messages) return [.. _messages]; } }

    /// <summary>The names in the store now, in the order they were stored.</summary>
    public IReadOnlyList<string> Stored { get { lock (_messages) return [.. _store.Select(s => s.Name)]; } }

    /// <summary>What the next start of the service gets, as systemd passes a store: fds 3… named in LISTEN_FDNAMES.</summary>
    public IReadOnlyList<ListenFd> ForNextStart() { lock (_messages) return [.. _store.Select(s => new ListenFd(s.Fd, s.Name))]; }

    public Task<IReadOnlyList<string>> WaitForAsync(string line, TimeSpan? timeout = null) =>
        Eventually.ReturnsAsync(() => Messages, m => m.Any(x => x.Split('\n').Contains(line)), $"the daemon's {line} on NOTIFY_SOCKET", timeout);

    private async Task ReadAsync()
    {
        byte[] buffer = new byte[4096];
        while (!_stop.IsCancellationRequested)
        {
            if (Receive(buffer, out string? text, out List<SafeFdHandle> fds) is bool got && !got)
            {
                try { await Task.Delay(10, _stop.Token); } catch (OperationCanceledException) { return; }
                continue;
            }
            lock (_messages)
            {
                _messages.Add(text!);
                string[] lines = text!.Split('\n');
                string? name = lines.FirstOrDefault(l => l.StartsWith("FDNAME=", StringComparison.Ordinal))?["FDNAME=".Length..];
                if (lines.Contains("FDSTORE=1")) foreach (SafeFdHandle fd in fds) _store.Add((name ?? "stored", fd));
                else foreach (SafeFdHandle fd in fds) fd.Dispose();
                if (lines.Contains("FDSTOREREMOVE=1") && name is not null)
                {
                    foreach (var entry in _store.Where(s => s.Name == name).ToList()) { entry.Fd.Dispose(); _store.Remove(entry); }
                }
            }
        }
    }

    /// <summary>One datagram with whatever descriptors came with it (installed close-on-exec); false when none waits.</summary>
    private unsafe bool Receive(byte[] buffer, out string? text, out List<SafeFdHandle> fds)
    {
        fds = [];
        text = null;
        int controlSize = Interop.Sys.CMsgSpace(sizeof(Interop.Sys.UCred)) + Interop.Sys.CMsgSpace(MaxFds * sizeof(int));
        ulong* words = stackalloc ulong[controlSize / 8 + 1];
        byte* control = (byte*)words;
        fixed (byte* data = buffer)
        {
            var iov = new Interop.Sys.IoVec { Base = data, Len = (nuint)buffer.Length };
            var msg = new Interop.Sys.MsgHdr { Iov = &iov, IovLen = 1, Control = control, ControlLen = (nuint)controlSize };
            nint n = Interop.Sys.RecvMsg(_socket.Handle.Fd, &msg, Interop.Sys.MSG_DONTWAIT | Interop.Sys.MSG_CMSG_CLOEXEC);
            if (n < 0) return false;
            text = Encoding.UTF8.GetString(buffer, 0, (int)n);
            int header = Interop.Sys.CMsgAlign(sizeof(Interop.Sys.CMsgHdr));
            nuint offset = 0;
            while (offset + (nuint)sizeof(Interop.Sys.CMsgHdr) <= msg.ControlLen)
            {
                var h = (Interop.Sys.CMsgHdr*)(control + offset);
                if (h->Len < (nuint)sizeof(Interop.Sys.CMsgHdr)) break;
                if (h->Level == Interop.Sys.SOL_SOCKET && h->Type == Interop.Sys.SCM_RIGHTS)
                {
                    int count = ((int)h->Len - header) / sizeof(int);
                    int* numbers = (int*)((byte*)h + header);
                    for (int i = 0; i < count; i++) fds.Add(new SafeFdHandle(numbers[i]));
                }
                offset += (nuint)Interop.Sys.CMsgAlign((int)h->Len);
            }
            return true;
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _reader.Wait(TimeSpan.FromSeconds(5));
        _socket.Dispose();
        lock (_messages) foreach (var (_, fd) in _store) fd.Dispose();
        _stop.Dispose();
    }
}
