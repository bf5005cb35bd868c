using System.Net;
using System.Net.Sockets;

namespace Tend.Tests.Support;

public static class FreePorts
{
    // Below the kernel's ephemeral range (ip_local_port_range, 32768 and up here): a port handed out
    // for binding 0 is also one that outgoing connections take as their local port, and tests that
    // open a connection per request (the reload load clients) churn through thousands of those, so a
    // port picked that way could be taken by a client before the test's daemon bound it. Each port of
    // this range is given out once per test run, from a random start so two test processes rarely meet.
    private const int First = 20000, Last = 32000;
    private static int s_next = First + Random.Shared.Next(Last - First);

    /// <summary>A loopback port nobody listens on right now and no other test of this run was given.</summary>
    public static int Next()
    {
        for (int attempt = 0; attempt < Last - First; attempt++)
        {
            int port = First + (Interlocked.Increment(ref s_next) - First) % (Last - First);
            try
            {
                using var probe = new TcpListener(IPAddress.Loopback, port);
                probe.Start();
                return port;
            }
            catch (SocketException)
            {
                // taken: the next one
            }
        }
        throw new InvalidOperationException($"no free loopback port between {First} and {Last}");
    }
}
