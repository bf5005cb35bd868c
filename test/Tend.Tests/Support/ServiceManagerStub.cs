using System.Text;
using Tend.Io;

namespace Tend.Tests.Support;

/// <summary>
/// The service manager's end of NOTIFY_SOCKET, as systemd holds it for a Type=notify unit: a real
/// datagram socket that the daemon under test is pointed at, and every message it sent, in order.
/// </summary>
public sealed class ServiceManagerStub : IDisposable
{
    private readonly CredentialSocket _socket;
    private readonly List<string> _messages = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _reader;

    public ServiceManagerStub(string dir)
    {
        _socket = CredentialSocket.Bind(System.IO.Path.Combine(dir, "sm-notify.sock"));
        _reader = Task.Run(ReadAsync);
    }

    public string Path => _socket.Path;

    public IReadOnlyList<string> Messages { get { lock (_messages) return [.. _messages]; } }

    public Task<IReadOnlyList<string>> WaitForAsync(string line, TimeSpan? timeout = null) =>
        Eventually.ReturnsAsync(() => Messages, m => m.Any(x => x.Split('\n').Contains(line)), $"the daemon's {line} on NOTIFY_SOCKET", timeout);

    private async Task ReadAsync()
    {
        byte[] buffer = new byte[4096];
        while (!_stop.IsCancellationRequested)
        {
            DatagramReceipt r = _socket.Receive(buffer);
            if (r.Status == ReceiveStatus.Datagram)
            {
                lock (_messages) _messages.Add(Encoding.UTF8.GetString(buffer, 0, r.Length));
                continue;
            }
            if (r.Status == ReceiveStatus.Failed) return;
            try { await Task.Delay(10, _stop.Token); } catch (OperationCanceledException) { return; }
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _reader.Wait(TimeSpan.FromSeconds(5));
        _socket.Dispose();
        _stop.Dispose();
    }
}
