using System.Net;
using System.Net.Sockets;

namespace Tend.Tests.Support;

public static class FreePorts
{
    /// <summary>A loopback port nobody listens on right now (bound to 0 and given back).</summary>
    public static int Next()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }
}
