using System.Net;
using System.Net.Sockets;

namespace Tend.Io;

/// <summary>
/// Connects a socket without the runtime's socket engine: a non-blocking connect(2), then a wait
/// for writability on an <see cref="EpollLoop"/>. Socket.ConnectAsync would register the socket
/// with .NET's own epoll thread for good, and that thread would then wake on every packet of a
/// connection that a <see cref="SocketRelay"/> moves, for nothing.
/// </summary>
public static class SocketConnect
{
    /// <summary>Connects <paramref name="socket"/> (left in non-blocking mode) to <paramref name="endPoint"/>.</summary>
    /// <exception cref="SocketException">The connect failed (refused, unreachable...).</exception>
    /// <exception cref="OperationCanceledException"><paramref name="ct"/> was cancelled first.</exception>
    public static async Task ConnectAsync(EpollLoop loop, Socket socket, EndPoint endPoint, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(loop);
        ArgumentNullException.ThrowIfNull(socket);
        socket.Blocking = false;
        try
        {
            socket.Connect(endPoint);
            return; // on loopback the handshake can be over before connect(2) returns
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.WouldBlock or SocketError.InProgress or SocketError.AlreadyInProgress)
        {
        }

        var settled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        // One-shot: connected or failed, the socket stays writable or in error, and a level-triggered
        // watch would fire until disposed.
        using (loop.WatchSocket(socket.SafeHandle, EpollInterest.Writable | EpollInterest.OneShot, _ => settled.TrySetResult()))
        {
            await settled.Task.WaitAsync(ct).ConfigureAwait(false);
        }
        // SO_ERROR: 0 once connected, else why not (the runtime reports it as a SocketError).
        int error = socket.GetSocketOption(SocketOptionLevel.Socket, SocketOptionName.Error) is int value ? value : 0;
        if (error != 0) throw new SocketException(error);
    }
}
