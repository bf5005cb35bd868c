using System.Text;

namespace Tend.Io;

/// <summary>
/// Writes a struct sockaddr_un for a unix socket path: a file path (NUL-terminated inside sun_path),
/// or, starting with '@', a name in the abstract namespace (sun_path starts with a NUL and the name is
/// exactly the bytes after it), the two forms NOTIFY_SOCKET takes.
/// </summary>
internal static class UnixAddress
{
    public static int MaxPathBytes => Interop.Sys.SunPathMaxBytes;

    /// <summary>Fills <paramref name="address"/> (room for <see cref="Interop.Sys.SockAddrUnSize"/> bytes) and returns the length to pass to the call.</summary>
    /// <exception cref="PathTooLongException">The path does not fit.</exception>
    public static unsafe uint Write(string path, byte* address)
    {
        int pathBytes = Encoding.UTF8.GetByteCount(path);
        if (pathBytes > MaxPathBytes) throw new PathTooLongException($"{path} is {pathBytes} bytes; a unix socket path holds at most {MaxPathBytes}");
        bool isAbstract = path.StartsWith('@');
        new Span<byte>(address, Interop.Sys.SockAddrUnSize).Clear();
        *(ushort*)address = Interop.Sys.AF_UNIX;
        Encoding.UTF8.GetBytes(path, new Span<byte>(address + Interop.Sys.SunPathOffset, pathBytes));
        if (isAbstract) address[Interop.Sys.SunPathOffset] = 0;
        return (uint)(Interop.Sys.SunPathOffset + pathBytes + (isAbstract ? 0 : 1));
    }
}
