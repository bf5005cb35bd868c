using System.Globalization;
using Tend.Identity;
using Tend.Isolation;

namespace Tend.Config;

/// <summary>user, group, supplementary_groups, umask, limits, no_new_privs, capabilities and resources of one app.</summary>
internal static class IsolationSectionReader
{
    internal static readonly string[] s_keys = ["user", "group", "supplementary_groups", "umask", "limits", "no_new_privs", "capabilities", "resources"];

    private static readonly string[] s_resourceKeys = ["memory_max", "memory_high", "cpu_max", "pids_max"];

    /// <summary>What the first pass collects; names are resolved in <see cref="Resolve"/>.</summary>
    internal sealed class Draft
    {
        public (string Name, YNode Node)? User { get; set; }
        public (string Name, YNode Node)? Group { get; set; }
        public List<(string Name, YNode Node)>? SupplementaryGroups { get; set; }
        public YNode? SupplementaryNode { get; set; }
        public YNode? CapabilitiesNode { get; set; }
        public YNode? ResourcesNode { get; set; }
        public Dictionary<string, YNode> ResourceKeys { get; } = new(StringComparer.Ordinal);
        public IsolationSpec Spec { get; set; } = IsolationSpec.None;
    }

    /// <summary>Reads one of <see cref="s_keys"/> into <paramref name="draft"/>.</summary>
    internal static void Read(NodeReader reader, string key, YNode value, string field, Draft draft)
    {
        switch (key)
        {
            case "user":
                if (ReadName(reader, value, field) is { } user) draft.User = (user, value);
                break;
            case "group":
                if (ReadName(reader, value, field) is { } group) draft.Group = (group, value);
                break;
            case "supplementary_groups":
            {
                draft.SupplementaryNode = value;
                IReadOnlyList<YNode> items = value is YSequence seq ? seq.Items : [value];
                var names = new List<(string, YNode)>();
                for (int i = 0; i < items.Count; i++)
                {
                    if (ReadName(reader, items[i], value is YSequence ? $"{field}[{i}]" : field) is { } name) names.Add((name, items[i]));
                }
                draft.SupplementaryGroups = names;
                break;
            }
            case "umask":
                if (value is YScalar { IsNull: false } u && TryOctal(u.Value, out int umask) && umask <= 0x1FF)
                    draft.Spec = draft.Spec with { Umask = umask };
                else
                    reader.Error(value, field, $"expected an octal mode like 022 or 0027, got {value.Describe()}");
                break;
            case "limits":
                if (ReadLimits(reader, value, field) is { } limits) draft.Spec = draft.Spec with { Limits = limits };
                break;
            case "no_new_privs":
                if (reader.TryBool(value, field, out bool nnp)) draft.Spec = draft.Spec with { NoNewPrivileges = nnp };
                break;
            case "capabilities":
            {
                draft.CapabilitiesNode = value;
                IReadOnlyList<YNode> items = value is YSequence seq ? seq.Items : [value];
                var caps = new List<string>();
                for (int i = 0; i < items.Count; i++)
                {
                    string itemField = value is YSequence ? $"{field}[{i}]" : field;
                    if (!reader.TryString(items[i], itemField, out string text)) continue;
                    if (Tend.Isolation.Capabilities.Normalize(text) is { } cap) { if (!caps.Contains(cap)) caps.Add(cap); }
                    else reader.Error(items[i], itemField, $"\"{text}\" is not a Linux capability (like CAP_NET_BIND_SERVICE){SuggestCapability(text)}");
                }
                draft.Spec = draft.Spec with { Capabilities = new EquatableArray<string>(caps) };
                break;
            }
            case "resources":
                draft.ResourcesNode = value;
                if (ReadResources(reader, value, field, draft.ResourceKeys) is { } resources) draft.Spec = draft.Spec with { Resources = resources };
                break;
        }
    }

    /// <summary>
    /// Resolves user and group names against the user database and checks what this daemon can
    /// honour: only root may switch users or hand out capabilities. Returns the spec, with the
    /// user's HOME, USER, LOGNAME and SHELL put into <paramref name="env"/> where the config did not set them.
    /// </summary>
    internal static IsolationSpec Resolve(NodeReader reader, string field, Draft draft, Dictionary<string, string> env, ISet<string> setByConfig,
        string cwd, YNode cwdNode, CgroupTree? cgroups)
    {
        IsolationSpec spec = draft.Spec;
        if (cgroups is not null)
        {
            // Refused at load, with the line, rather than an app that fails every start.
            foreach (var (key, keyNode) in draft.ResourceKeys)
            {
                string controller = key switch { "memory_max" or "memory_high" => "memory", "cpu_max" => "cpu", _ => "pids" };
                if (cgroups.CanLimit(controller)) continue;
                string why = cgroups.Mode == CgroupMode.None ? "this daemon runs apps without cgroups" : $"the {controller} controller is not available to this daemon";
                reader.Error(keyNode, field + ".resources." + key, $"cannot be enforced: {why} ({string.Join("; ", cgroups.Notes)}); see tend doctor");
            }
        }
        uint euid = ProcessIdentity.EffectiveUserId;
        bool switches = draft.User is not null || draft.Group is not null || draft.SupplementaryGroups is not null;
        if (switches && euid != 0)
        {
            YNode node = draft.User?.Node ?? draft.Group?.Node ?? draft.SupplementaryNode!;
            string key = draft.User is not null ? "user" : draft.Group is not null ? "group" : "supplementary_groups";
            reader.Error(node, field + "." + key,
                $"only a daemon running as root can run an app as another user or group; this daemon runs as uid {euid} (leave {key} out, or start the daemon as root)");
            return spec;
        }
        if (draft.CapabilitiesNode is not null && euid != 0 && spec.Capabilities is { Count: > 0 })
        {
            reader.Error(draft.CapabilitiesNode, field + ".capabilities",
                $"only a daemon running as root can hand capabilities to an app; this daemon runs as uid {euid}");
            return spec;
        }

        UserAccount? user = null;
        if (draft.User is var (userName, userNode))
        {
            user = UserAccounts.FindUser(userName);
            if (user is null && !UserAccounts.IsNumericId(userName))
            {
                reader.Error(userNode, field + ".user", $"no user \"{userName}\" on this host (see getent passwd)");
                return spec;
            }
            uint uid = user?.Uid ?? uint.Parse(userName, CultureInfo.InvariantCulture);
            spec = spec with { UserName = user?.Name ?? userName, Uid = uid, Gid = user?.Gid ?? uid, Home = user?.Home, Shell = user?.Shell };
        }
        if (draft.Group is var (groupName, groupNode))
        {
            GroupAccount? group = UserAccounts.FindGroup(groupName);
            if (group is null && !UserAccounts.IsNumericId(groupName))
            {
                reader.Error(groupNode, field + ".group", $"no group \"{groupName}\" on this host (see getent group)");
                return spec;
            }
            spec = spec with { Gid = group?.Gid ?? uint.Parse(groupName, CultureInfo.InvariantCulture) };
        }
        if (draft.SupplementaryGroups is { } supplementary)
        {
            var gids = new List<uint>();
            foreach (var (name, node) in supplementary)
            {
                GroupAccount? group = UserAccounts.FindGroup(name);
                if (group is null && !UserAccounts.IsNumericId(name))
                {
                    reader.Error(node, field + ".supplementary_groups", $"no group \"{name}\" on this host (see getent group)");
                    continue;
                }
                uint gid = group?.Gid ?? uint.Parse(name, CultureInfo.InvariantCulture);
                if (!gids.Contains(gid)) gids.Add(gid);
            }
            spec = spec with { Groups = new EquatableArray<uint>(gids) };
        }
        else if (spec.Uid is not null || spec.Gid is not null)
        {
            // As initgroups(3) (and systemd's User=): the user's groups from the group database,
            // or just the primary group for an id without a name.
            uint gid = spec.Gid!.Value;
            uint[] groups = user is not null ? UserAccounts.GroupsOf(user.Name, gid) : [gid];
            spec = spec with { Groups = new EquatableArray<uint>(groups) };
        }

        // The working directory is entered as the app's user, as systemd's WorkingDirectory= is:
        // one it cannot reach is refused here rather than failing at every start.
        if (spec.Uid is uint runUid && Directory.Exists(cwd) &&
            HostSupport.FirstDirectoryNotEnterable(cwd, runUid, spec.Gid ?? runUid, spec.Groups is { } gs ? [.. gs] : []) is { } blocked)
        {
            reader.Error(cwdNode, field + ".cwd",
                $"user {spec.UserName} cannot enter {blocked} (no search permission), so it cannot run in {cwd}; set cwd: to a directory it can reach, or open the path to it (chmod o+x)");
        }

        if (user is not null)
        {
            void Default(string name, string value)
            {
                if (!setByConfig.Contains(name)) env[name] = value;
            }
            Default("HOME", user.Home);
            Default("USER", user.Name);
            Default("LOGNAME", user.Name);
            Default("SHELL", user.Shell.Length > 0 ? user.Shell : "/bin/sh");
        }
        return spec;
    }

    /// <summary>A close name, or the one capability the text begins ("CAP_NET_BIND" → net_bind_service).</summary>
    private static string SuggestCapability(string text)
    {
        string typed = text.Trim().ToLowerInvariant();
        if (typed.StartsWith("cap_", StringComparison.Ordinal)) typed = typed[4..];
        string close = Suggest.DidYouMean(typed, Tend.Isolation.Capabilities.Names);
        if (close.Length > 0 || typed.Length < 3) return close;
        var prefixed = Tend.Isolation.Capabilities.Names.Where(n => n.StartsWith(typed, StringComparison.Ordinal)).ToList();
        return prefixed.Count == 1 ? $"; did you mean \"{prefixed[0]}\"?" : "";
    }

    private static string? ReadName(NodeReader reader, YNode value, string field)
    {
        if (!reader.TryString(value, field, out string text)) return null;
        text = text.Trim();
        if (text.Length == 0 || text.Contains(':') || text.Contains(','))
        {
            reader.Error(value, field, $"expected a name or a numeric id, got \"{text}\"");
            return null;
        }
        return text;
    }

    private static bool TryOctal(string text, out int value)
    {
        value = 0;
        text = text.Trim();
        if (text.StartsWith("0o", StringComparison.OrdinalIgnoreCase)) text = text[2..];
        if (text.Length is 0 or > 4) return false;
        foreach (char c in text)
        {
            if (c is < '0' or > '7') return false;
            value = value * 8 + (c - '0');
        }
        return true;
    }

    private static EquatableArray<ResourceLimit>? ReadLimits(NodeReader reader, YNode value, string field)
    {
        if (!reader.TryMapping(value, field, "a mapping of limit names to values (nofile: 65536, core: infinity)", out YMapping map)) return null;
        var limits = new List<ResourceLimit>();
        bool ok = true;
        foreach (var (name, _, limitNode) in reader.Entries(map, field, ResourceLimit.Names.ToArray()))
        {
            string f = field + "." + name;
            if (limitNode is not YScalar { IsNull: false } scalar)
            {
                reader.Error(limitNode, f, $"expected a number, \"soft:hard\" or infinity, got {limitNode.Describe()}");
                ok = false;
                continue;
            }
            string[] parts = scalar.Value.Split(':');
            if (parts.Length > 2 || !TryLimit(parts[0], out ulong soft) || !TryLimit(parts[^1], out ulong hard))
            {
                reader.Error(limitNode, f, $"expected a number, \"soft:hard\" or infinity, got \"{scalar.Value}\"");
                ok = false;
                continue;
            }
            if (soft > hard)
            {
                reader.Error(limitNode, f, $"the soft limit ({parts[0]}) is above the hard limit ({parts[^1]})");
                ok = false;
                continue;
            }
            limits.Add(new ResourceLimit(name, soft, hard));
        }
        return ok ? new EquatableArray<ResourceLimit>(limits) : (EquatableArray<ResourceLimit>?)null;
    }

    private static bool TryLimit(string text, out ulong value)
    {
        text = text.Trim();
        if (text is "infinity" or "unlimited" or "infinite")
        {
            value = ResourceLimit.Infinity;
            return true;
        }
        if (ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value)) return true;
        if (Units.TryParseSize(text, out long bytes) && bytes >= 0)
        {
            value = (ulong)bytes;
            return true;
        }
        return false;
    }

    private static CgroupResources? ReadResources(NodeReader reader, YNode value, string field, Dictionary<string, YNode> keys)
    {
        if (!reader.TryMapping(value, field, "a mapping with memory_max, memory_high, cpu_max, pids_max", out YMapping map)) return null;
        var r = CgroupResources.None;
        bool ok = true;
        foreach (var (key, keyNode, node) in reader.Entries(map, field, s_resourceKeys))
        {
            string f = field + "." + key;
            keys[key] = keyNode;
            switch (key)
            {
                case "memory_max":
                    if (reader.TrySize(node, f, out long max)) r = r with { MemoryMax = max }; else ok = false;
                    break;
                case "memory_high":
                    if (reader.TrySize(node, f, out long high)) r = r with { MemoryHigh = high }; else ok = false;
                    break;
                case "pids_max":
                    if (reader.TryInt(node, f, 1, 4_194_304, out int pids)) r = r with { PidsMax = pids }; else ok = false;
                    break;
                case "cpu_max":
                    if (node is YScalar { IsNull: false } s && TryCores(s.Value, out double cores)) r = r with { CpuMax = cores };
                    else
                    {
                        reader.Error(node, f, $"expected a share of one core like 50% or a number of cores like 1.5, got {node.Describe()}");
                        ok = false;
                    }
                    break;
            }
        }
        return ok ? r : null;
    }

    /// <summary>"50%" (of one core, as systemd's CPUQuota=) or "1.5" (cores).</summary>
    private static bool TryCores(string text, out double cores)
    {
        text = text.Trim();
        bool percent = text.EndsWith('%');
        if (percent) text = text[..^1].Trim();
        if (!double.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out cores) || cores <= 0) return false;
        if (percent) cores /= 100;
        return cores >= 0.01 && cores <= 4096;
    }
}
