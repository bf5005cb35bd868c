using Tend.Isolation;

namespace Tend.Config;

/// <summary>
/// Who an app runs as and what it may use (docs/config.md#isolation): user and groups resolved
/// against the user database when the config is loaded, umask, rlimits, no_new_privs,
/// capabilities and the limits of its cgroup. Value equality, so a reload sees a change.
/// </summary>
public sealed record IsolationSpec
{
    public static IsolationSpec None { get; } = new();

    /// <summary>The user to run as (null: the daemon's).</summary>
    public string? UserName { get; init; }
    public uint? Uid { get; init; }
    public uint? Gid { get; init; }
    /// <summary>Supplementary groups (null: keep the daemon's; set whenever a user or group is).</summary>
    public EquatableArray<uint>? Groups { get; init; }
    public string? Home { get; init; }
    public string? Shell { get; init; }
    public int? Umask { get; init; }
    public EquatableArray<ResourceLimit> Limits { get; init; } = EquatableArray<ResourceLimit>.Empty;
    public bool NoNewPrivileges { get; init; }
    public EquatableArray<string>? Capabilities { get; init; }
    public CgroupResources Resources { get; init; } = CgroupResources.None;

    /// <summary>The prelude settings for a spawn, or null when there are none.</summary>
    public ProcessIsolation? ForSpawn()
    {
        if (Uid is null && Gid is null && Groups is null && Umask is null && Limits.Count == 0 && !NoNewPrivileges && Capabilities is null)
            return null;
        return new ProcessIsolation
        {
            Uid = Uid,
            Gid = Gid,
            Groups = Groups is { } g ? [.. g] : null,
            Umask = Umask,
            Limits = [.. Limits],
            NoNewPrivileges = NoNewPrivileges,
            Capabilities = Capabilities is { } c ? [.. c] : null,
        };
    }
}
