using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace Tend.Health;

/// <summary>
/// Node.js's IPC channel with one run of an instance (docs/health.md#node-apps): the socketpair
/// child_process.fork() would make, in Node's default "json" serialization, where each message is one
/// JSON text followed by '\n'. <c>process.send('ready')</c> arrives as <c>"ready"</c>; what Tend sends
/// (<c>'shutdown'</c>) the app receives with <c>process.on('message')</c>. PM2 speaks the same way, so
/// an app written for PM2 needs no change.
/// </summary>
internal sealed class NodeIpcChannel : IAsyncDisposable
{
    /// <summary>A message longer than this is not read into memory: it is skipped to its end and counted malformed.</summary>
    private const int MaxMessageBytes = 1 << 20;

    private readonly Socket _socket;
    private readonly Action<NodeMessage> _onMessage;
    private readonly CancellationTokenSource _stop = new();
    private readonly SemaphoreSlim _sending = new(1, 1);
    private Task _reader = Task.CompletedTask;
    private long _received, _malformed, _sent;

    /// <param name="handle">Our end of the channel; owned from here on.</param>
    /// <param name="onMessage">Called on the reading task for each message, in order.</param>
    public NodeIpcChannel(SafeSocketHandle handle, Action<NodeMessage> onMessage)
    {
        _socket = new Socket(handle);
        _onMessage = onMessage;
    }

    public long Received => Interlocked.Read(ref _received);
    public long Malformed => Interlocked.Read(ref _malformed);
    public long Sent => Interlocked.Read(ref _sent);

    public void Start() => _reader = Task.Run(ReadAsync);

    /// <summary>Sends <paramref name="message"/> as a JSON string, as <c>subprocess.send('shutdown')</c> does.
    /// False when the app has closed its end (it exited, or called process.disconnect()).</summary>
    public async Task<bool> SendAsync(string message)
    {
        byte[] bytes = Encoding.UTF8.GetBytes("\"" + JsonEncodedText.Encode(message).ToString() + "\"\n");
        await _sending.WaitAsync().ConfigureAwait(false);
        try
        {
            int offset = 0;
            while (offset < bytes.Length)
                offset += await _socket.SendAsync(bytes.AsMemory(offset), SocketFlags.None, _stop.Token).ConfigureAwait(false);
            Interlocked.Increment(ref _sent);
            return true;
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException or OperationCanceledException)
        {
            return false;
        }
        finally
        {
            _sending.Release();
        }
    }

    private async Task ReadAsync()
    {
        var pending = new List<byte>();
        bool skipping = false;
        byte[] buffer = new byte[16 * 1024];
        try
        {
            while (true)
            {
                int n = await _socket.ReceiveAsync(buffer, SocketFlags.None, _stop.Token).ConfigureAwait(false);
                if (n == 0) return; // the app exited or disconnected
                int start = 0;
                for (int i = 0; i < n; i++)
                {
                    if (buffer[i] != (byte)'\n') continue;
                    if (!skipping)
                    {
                        pending.AddRange(new ArraySegment<byte>(buffer, start, i - start));
                        Deliver(pending);
                    }
                    skipping = false;
                    pending.Clear();
                    start = i + 1;
                }
                if (skipping || start == n) continue;
                pending.AddRange(new ArraySegment<byte>(buffer, start, n - start));
                if (pending.Count > MaxMessageBytes)
                {
                    skipping = true;
                    pending.Clear();
                    Interlocked.Increment(ref _malformed);
                }
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException or OperationCanceledException)
        {
            // closed under us: the run is over
        }
    }

    private void Deliver(List<byte> line)
    {
        NodeMessage message;
        try
        {
            using var document = JsonDocument.Parse(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(line).ToArray());
            JsonElement root = document.RootElement;
            message = root.ValueKind == JsonValueKind.String
                ? new NodeMessage(root.GetString(), null)
                : new NodeMessage(null, root.GetRawText());
        }
        catch (JsonException)
        {
            Interlocked.Increment(ref _malformed);
            return;
        }
        Interlocked.Increment(ref _received);
        _onMessage(message);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        _socket.Dispose();
        await _reader.ConfigureAwait(false);
        _stop.Dispose();
        _sending.Dispose();
    }
}

/// <summary>One message from a Node app: <paramref name="Text"/> when it sent a string
/// (<c>process.send('ready')</c>), otherwise the JSON it sent, as written.</summary>
public sealed record NodeMessage(string? Text, string? Json);
