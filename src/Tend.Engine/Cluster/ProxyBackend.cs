using System.Net;

namespace Tend.Cluster;

/// <summary>
/// One place a <see cref="TcpProxy"/> may forward a connection to: a ready instance on its own port.
/// <see cref="Name"/> identifies it for draining and the per-backend connection counts (e.g. "web:2"),
/// so it must be unique within one backend set.
/// </summary>
public sealed record ProxyBackend(string Name, IPEndPoint EndPoint);
