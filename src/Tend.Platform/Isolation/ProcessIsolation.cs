namespace Tend.Isolation;

/// <summary>
/// What a child is put into before its program runs its first instruction: its user, groups,
/// umask, resource limits, no_new_privs and capabilities. Applied by the spawn prelude
/// (<c>ChildProcess</c>): the daemon never changes any of this on itself.
/// </summary>
public sealed record ProcessIsolation
{
    /// <summary>Run as this user (real, effective and saved uid); null keeps the daemon's.</summary>
    public uint? Uid { get; init; }

    /// <summary>Run with this primary group (real, effective and saved gid); null keeps the daemon's.</summary>
    public uint? Gid { get; init; }

    /// <summary>Exactly these supplementary groups (empty: none); null keeps the daemon's.</summary>
    public IReadOnlyList<uint>? Groups { get; init; }

    /// <summary>The umask (e.g. 0o027); null inherits the daemon's.</summary>
    public int? Umask { get; init; }

    /// <summary>Resource limits set before the program starts.</summary>
    public IReadOnlyList<ResourceLimit> Limits { get; init; } = [];

    /// <summary>prctl(PR_SET_NO_NEW_PRIVS): no setuid bit or file capability can ever raise its privileges.</summary>
    public bool NoNewPrivileges { get; init; }

    /// <summary>
    /// Null: capabilities as the user switch leaves them (none for a non-root user). A list (names
    /// as in <see cref="Capabilities.Names"/>): exactly these are kept, as ambient capabilities that
    /// survive the switch and the exec, and everything else leaves the bounding set.
    /// </summary>
    public IReadOnlyList<string>? Capabilities { get; init; }

    /// <summary>True when something here needs the prelude's setpriv step.</summary>
    public bool ChangesCredentials => Uid is not null || Gid is not null || Groups is not null || NoNewPrivileges || Capabilities is not null;
}

/// <summary>One setrlimit: <see cref="Infinity"/> for no limit.</summary>
/// <param name="Name">The resource as prlimit(1) names it: nofile, nproc, core, ... (see <see cref="Names"/>).</param>
public sealed record ResourceLimit(string Name, ulong Soft, ulong Hard)
{
    public const ulong Infinity = ulong.MaxValue;

    /// <summary>Every resource limit Linux has, by the names prlimit(1) and systemd's Limit*= use.</summary>
    public static IReadOnlyList<string> Names { get; } =
    [
        "as", "core", "cpu", "data", "fsize", "locks", "memlock", "msgqueue", "nice", "nofile", "nproc",
        "rss", "rtprio", "rttime", "sigpending", "stack",
    ];
}

/// <summary>Linux capability names (without the CAP_ prefix, lower case, as setpriv(1) takes them).</summary>
public static class Capabilities
{
    public static IReadOnlyList<string> Names { get; } =
    [
        "chown", "dac_override", "dac_read_search", "fowner", "fsetid", "kill", "setgid", "setuid",
        "setpcap", "linux_immutable", "net_bind_service", "net_broadcast", "net_admin", "net_raw",
        "ipc_lock", "ipc_owner", "sys_module", "sys_rawio", "sys_chroot", "sys_ptrace", "sys_pacct",
        "sys_admin", "sys_boot", "sys_nice", "sys_resource", "sys_time", "sys_tty_config", "mknod",
        "lease", "audit_write", "audit_control", "setfcap", "mac_override", "mac_admin", "syslog",
        "wake_alarm", "block_suspend", "audit_read", "perfmon", "bpf", "checkpoint_restore",
    ];

    /// <summary>"CAP_NET_BIND_SERVICE", "cap_net_bind_service" or "net_bind_service" as the short
    /// lower-case name; null when it names no capability.</summary>
    public static string? Normalize(string name)
    {
        string lower = name.Trim().ToLowerInvariant();
        if (lower.StartsWith("cap_", StringComparison.Ordinal)) lower = lower[4..];
        return Names.Contains(lower) ? lower : null;
    }
}
