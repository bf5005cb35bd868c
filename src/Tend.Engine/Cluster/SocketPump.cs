using System.Buffers;
using System.Net.Sockets;

namespace Tend.Cluster;

/// <summary>One direction of a proxied connection: copies until end of stream, then half-closes the other side.</summary>
internal static class SocketPump
{
    /// <summary>
    /// Copies <paramref name="from"/> → <paramref name="to"/>. True when <paramref name="from"/> ended
    /// cleanly and the end was passed on with Shutdown(Send); false on any error or cancellation, after
    /// cancelling <paramref name="abort"/> so the opposite direction stops too. Never throws for socket
    /// errors: the caller decides how both sockets are closed.
    /// </summary>
    public static async Task<bool> RunAsync(Socket from, Socket to, int bufferSize, CancellationTokenSource abort)
    {
        CancellationToken ct = abort.Token;
        try
        {
            while (true)
            {
                // A zero-byte receive completes when data (or the end) is there, without a buffer: an idle
                // keep-alive connection holds no pooled memory, only a busy one does.
                await from.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None, ct).ConfigureAwait(false);

                byte[] buffer = ArrayPool<byte>.Shared.Rent(bufferSize);
                try
                {
                    int read;
                    do
                    {
                        read = await from.ReceiveAsync(buffer.AsMemory(), SocketFlags.None, ct).ConfigureAwait(false);
                        if (read == 0)
                        {
                            to.Shutdown(SocketShutdown.Send);
                            return true;
                        }
                        await SendAllAsync(to, buffer.AsMemory(0, read), ct).ConfigureAwait(false);
                    }
                    while (read == buffer.Length); // a full buffer: more is likely queued, keep the buffer
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                }
            }
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException)
        {
            abort.Cancel();
            return false;
        }
    }

    private static async ValueTask SendAllAsync(Socket to, ReadOnlyMemory<byte> data, CancellationToken ct)
    {
        while (!data.IsEmpty)
        {
            int sent = await to.SendAsync(data, SocketFlags.None, ct).ConfigureAwait(false);
            data = data[sent..];
        }
    }
}
