using System.Net.Http;
using System.Net.Sockets;
using Tend.Config;

namespace Tend.Health;

/// <summary>The short texts every probe puts in <see cref="ProbeResult.Detail"/>, so that a refused
/// connection reads the same whether an HTTP or a TCP probe met it.</summary>
internal static class ProbeText
{
    public const int MaxLine = 120;

    public static ProbeResult TimedOut(TimeSpan timeout, TimeSpan latency) =>
        new(false, latency, $"timed out after {Units.FormatDuration(timeout)}");

    /// <summary>"connection refused", "host not found", …: the cause a user acts on, not .NET's wrapping.</summary>
    public static string Describe(Exception e)
    {
        for (Exception? inner = e; inner is not null; inner = inner.InnerException)
        {
            if (inner is SocketException socket)
            {
                return socket.SocketErrorCode switch
                {
                    SocketError.ConnectionRefused => "connection refused",
                    SocketError.HostNotFound or SocketError.NoData or SocketError.TryAgain => "host not found",
                    SocketError.ConnectionReset => "connection reset",
                    SocketError.HostUnreachable => "host unreachable",
                    SocketError.NetworkUnreachable => "network unreachable",
                    SocketError.AddressNotAvailable => "address not available",
                    _ => Line(socket.Message),
                };
            }
        }
        if (e is HttpRequestException http)
        {
            switch (http.HttpRequestError)
            {
                case HttpRequestError.ResponseEnded: return "connection closed without a response";
                case HttpRequestError.InvalidResponse: return "invalid HTTP response";
                case HttpRequestError.SecureConnectionError: return Line("TLS error: " + Innermost(e).Message);
            }
        }
        return Line(Innermost(e).Message);
    }

    /// <summary>The first non-blank line of <paramref name="text"/>, cut to <see cref="MaxLine"/> characters.</summary>
    public static string Line(string text)
    {
        ReadOnlySpan<char> rest = text;
        while (!rest.IsEmpty)
        {
            int end = rest.IndexOfAny('\r', '\n');
            ReadOnlySpan<char> line = (end < 0 ? rest : rest[..end]).Trim();
            if (!line.IsEmpty) return Truncate(line);
            if (end < 0) break;
            rest = rest[(end + 1)..];
        }
        return "";
    }

    private static string Truncate(ReadOnlySpan<char> line) =>
        line.Length <= MaxLine ? line.ToString() : string.Concat(line[..(MaxLine - 1)], "…");

    private static Exception Innermost(Exception e)
    {
        while (e.InnerException is not null) e = e.InnerException;
        return e;
    }
}
