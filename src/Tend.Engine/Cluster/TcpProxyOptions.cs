namespace Tend.Cluster;

/// <summary>Tuning for a <see cref="TcpProxy"/>. The defaults suit one app's public port.</summary>
public sealed record TcpProxyOptions
{
    /// <summary>Listen backlog of the public socket (the kernel caps it at net.core.somaxconn).</summary>
    public int Backlog { get; init; } = 512;

    /// <summary>How long one connect to one backend may take before the next backend is tried.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// How long an accepted client is held, counted from its accept, while no backend can take it (the set
    /// is empty, or every backend in it refused). Covers the restart of an app's only instance: the client
    /// waits for the next <see cref="TcpProxy.SetBackends"/> instead of being refused. After it, the client
    /// is closed and counted in <see cref="TcpProxy.Failed"/>. Zero: give up after one round of attempts.
    /// </summary>
    public TimeSpan BackendWait { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Backends tried per round for one client; 0 means every backend in the set once.</summary>
    public int MaxConnectAttempts { get; init; }

    internal void Validate()
    {
        if (Backlog < 1) throw new ArgumentOutOfRangeException(nameof(Backlog), Backlog, "must be at least 1");
        if (ConnectTimeout <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(ConnectTimeout), ConnectTimeout, "must be positive");
        if (BackendWait < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(BackendWait), BackendWait, "must not be negative");
        if (MaxConnectAttempts < 0) throw new ArgumentOutOfRangeException(nameof(MaxConnectAttempts), MaxConnectAttempts, "must not be negative");
    }
}
