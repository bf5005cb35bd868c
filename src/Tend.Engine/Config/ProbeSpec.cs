
namespace Tend.Config;

/// <summary>What a probe checks.</summary>
public enum ProbeKind
{
    /// <summary>GET <see cref="ProbeSpec.Target"/> (a URL); any 2xx or 3xx answer is a success.</summary>
    Http,
    /// <summary>Connect to <see cref="ProbeSpec.Target"/> (host:port); an accepted connection is a success.</summary>
    Tcp,
    /// <summary>Run <see cref="ProbeSpec.Command"/> (argv) in the app's cwd and environment; exit 0 is a success.</summary>
    Exec,
    /// <summary>Match <see cref="ProbeSpec.Target"/> (a .NET regular expression) against the instance's output lines.</summary>
    Log,
}

/// <summary>
/// One probe with Kubernetes' meanings: the first check after <see cref="InitialDelay"/>, then one
/// every <see cref="Interval"/>, each given <see cref="Timeout"/>; the state flips to failing after
/// <see cref="FailureThreshold"/> failures in a row and to passing after <see cref="SuccessThreshold"/>
/// successes in a row. Defaults are Kubernetes' own (0s, 10s, 1s, 3, 1).
/// </summary>
public sealed record ProbeSpec
{
    public required ProbeKind Kind { get; init; }
    /// <summary>The URL (http), host:port (tcp) or pattern (log); for exec, the command line as written.</summary>
    public required string Target { get; init; }
    /// <summary>exec only: argv, the program first.</summary>
    public EquatableArray<string> Command { get; init; } = EquatableArray<string>.Empty;
    public TimeSpan InitialDelay { get; init; } = TimeSpan.Zero;
    public TimeSpan Interval { get; init; } = TimeSpan.FromSeconds(10);
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(1);
    public int FailureThreshold { get; init; } = 3;
    public int SuccessThreshold { get; init; } = 1;

    /// <summary>"http http://127.0.0.1:8080/healthz", for describe and events.</summary>
    public string Describe() => $"{Kind.ToString().ToLowerInvariant()} {Target}";
}

/// <summary>
/// `ready:` of an app: how an instance shows it is ready. <see cref="Notify"/> (the systemd
/// protocol over NOTIFY_SOCKET), a <see cref="Message"/> over Node's IPC channel, or a <see cref="Probe"/>; an instance not ready within
/// <see cref="Timeout"/> of its spawn is a failed start.
/// </summary>
public sealed record ReadySpec
{
    public bool Notify { get; init; }
    /// <summary>Ready when the app sends this over Node's IPC channel (PM2's wait_ready: process.send('ready')).</summary>
    public string? Message { get; init; }
    public ProbeSpec? Probe { get; init; }
    /// <summary>systemd's TimeoutStartSec default; infinite when written as `infinity`.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(90);
}
