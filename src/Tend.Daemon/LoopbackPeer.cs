using System.Buffers.Binary;
using System.Globalization;
using System.Net;

namespace Tend.Daemon;

/// <summary>
/// Which user opened a loopback TCP connection to us. The unix socket keeps other users out by its
/// file mode; 127.0.0.1 does not, so without a token the dashboard must not take every local
/// user's word for it. Both ends of a loopback connection are sockets of this machine, and the
/// kernel lists each in /proc/net/tcp (tcp6 for IPv6) with the uid that created it: the client's
/// is the row whose local address is the connection's remote end and whose remote address is our
/// end. Read per request, only for dashboard routes on loopback without a token; a health check
/// never pays for it.
/// </summary>
internal static class LoopbackPeer
{
    /// <summary>The uid owning the client socket of the connection remote → local, or null when no row matches.</summary>
    public static uint? OwnerOf(IPEndPoint remote, IPEndPoint local)
    {
        foreach ((string file, Func<IPAddress, string?> format) in s_tables)
        {
            string? client = Endpoint(remote, format);
            string? server = Endpoint(local, format);
            if (client is null || server is null) continue;
            try
            {
                foreach (string line in File.ReadLines(file).Skip(1))
                {
                    // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid …
                    string[] f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                    if (f.Length > 7 && f[1] == client && f[2] == server && uint.TryParse(f[7], NumberStyles.None, CultureInfo.InvariantCulture, out uint uid))
                        return uid;
                }
            }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
        return null;
    }

    private static readonly (string File, Func<IPAddress, string?> Format)[] s_tables =
    [
        ("/proc/net/tcp", V4),
        ("/proc/net/tcp6", V6),
    ];

    private static string? Endpoint(IPEndPoint endPoint, Func<IPAddress, string?> format) =>
        format(endPoint.Address) is string address ? address + ":" + endPoint.Port.ToString("X4", CultureInfo.InvariantCulture) : null;

    // The kernel prints an IPv4 address as one 32-bit word and an IPv6 address as four, each "%08X"
    // of the network-order bytes read as a host-order (little-endian here) integer.
    private static string? V4(IPAddress ip)
    {
        if (ip.IsIPv4MappedToIPv6) ip = ip.MapToIPv4();
        if (ip.AddressFamily != System.Net.Sockets.AddressFamily.InterNetwork) return null;
        return Words(ip.GetAddressBytes());
    }

    private static string? V6(IPAddress ip)
    {
        if (ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork) ip = ip.MapToIPv6();
        return Words(ip.GetAddressBytes());
    }

    private static string Words(byte[] bytes)
    {
        var text = new System.Text.StringBuilder(bytes.Length * 2);
        for (int i = 0; i < bytes.Length; i += 4)
            text.Append(BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(i, 4)).ToString("X8", CultureInfo.InvariantCulture));
        return text.ToString();
    }
}
