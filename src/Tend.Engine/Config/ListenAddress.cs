using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Net;
using System.Text;

namespace Tend.Config;

/// <summary>Where a listening socket is bound: a TCP address or a unix socket path.</summary>
public enum ListenKind
{
    Tcp,
    Unix,
}

/// <summary>
/// A parsed <c>listen:</c> entry. The forms, as systemd's ListenStream= reads them:
/// <list type="bullet">
/// <item><c>8080</c> or <c>*:8080</c>: every address, IPv6 and IPv4 on one dual-stack socket (what a
/// systemd user expects from a bare port); IPv4 only where the machine has no IPv6;</item>
/// <item><c>127.0.0.1:8080</c>, <c>[::1]:8080</c>, <c>localhost:8080</c> (= 127.0.0.1): that address only.
/// Host names other than localhost are refused: resolving them would make a config's meaning depend on
/// DNS at load time;</item>
/// <item><c>/run/app.sock</c>: a unix stream socket at that absolute path.</item>
/// </list>
/// Port 0 asks the kernel for a free port (tests).
/// </summary>
/// <param name="Host">Null for "every address" (a bare port).</param>
public sealed record ListenAddress(ListenKind Kind, IPAddress? Host, int Port, string? Path)
{
    // sockaddr_un.sun_path is 108 bytes including the terminating NUL.
    private const int MaxUnixPathBytes = 107;

    public static ListenAddress Tcp(IPAddress? host, int port) => new(ListenKind.Tcp, host, port, null);

    public static ListenAddress Unix(string path) => new(ListenKind.Unix, null, 0, path);

    /// <summary>Reads one of the forms above; <paramref name="error"/> says what is wrong otherwise.</summary>
    public static bool TryParse(string text, [NotNullWhen(true)] out ListenAddress? address, [NotNullWhen(false)] out string? error)
    {
        address = null;
        text = text.Trim();
        if (text.Length == 0)
        {
            error = "an empty listen address";
            return false;
        }

        if (text[0] == '/')
        {
            if (text.Contains('\0') || Encoding.UTF8.GetByteCount(text) > MaxUnixPathBytes)
            {
                error = $"unix socket path '{text}' is longer than {MaxUnixPathBytes} bytes";
                return false;
            }
            address = Unix(text);
            error = null;
            return true;
        }

        string hostText = "";
        string portText = text;
        int colon = text.LastIndexOf(':');
        if (colon >= 0)
        {
            hostText = text[..colon];
            portText = text[(colon + 1)..];
        }
        if (!int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out int port) || port > 65535)
        {
            error = colon >= 0 && text.IndexOf(':') != colon && !text.StartsWith('[')
                ? $"'{text}': write an IPv6 address in brackets, as in [::1]:8080"
                : $"'{text}' is not a port, host:port or /path (port '{portText}' is not a number from 0 to 65535)";
            return false;
        }

        IPAddress? host;
        if (colon < 0 || hostText == "*")
        {
            host = null;
        }
        else if (hostText.Equals("localhost", StringComparison.OrdinalIgnoreCase))
        {
            host = IPAddress.Loopback;
        }
        else if (hostText.StartsWith('[') && hostText.EndsWith(']')
            && IPAddress.TryParse(hostText[1..^1], out var v6) && v6.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6)
        {
            host = v6;
        }
        else if (IPAddress.TryParse(hostText, out var v4) && v4.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork
            && hostText.Count(c => c == '.') == 3)
        {
            host = v4;
        }
        else if (IPAddress.TryParse(hostText, out var bare) && bare.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6)
        {
            error = $"'{text}': write an IPv6 address in brackets, as in [::1]:8080";
            return false;
        }
        else
        {
            error = $"'{hostText}' in '{text}' is not an IP address (use an address such as 127.0.0.1 or [::1], localhost, or * for all)";
            return false;
        }

        address = Tcp(host, port);
        error = null;
        return true;
    }

    /// <exception cref="FormatException">The text is none of the forms.</exception>
    public static ListenAddress Parse(string text) =>
        TryParse(text, out var address, out string? error) ? address : throw new FormatException(error);

    /// <summary>The canonical form: <c>*:8080</c>, <c>127.0.0.1:8080</c>, <c>[::1]:8080</c>, <c>/run/app.sock</c>.</summary>
    public override string ToString() => Kind switch
    {
        ListenKind.Unix => Path!,
        _ when Host is null => "*:" + Port.ToString(CultureInfo.InvariantCulture),
        _ => new IPEndPoint(Host, Port).ToString(),
    };
}
