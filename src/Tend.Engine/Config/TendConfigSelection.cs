namespace Tend.Config;

public static class TendConfigSelection
{
    /// <summary>
    /// The config narrowed to the named apps (for <c>--only a,b</c>), still in declaration order.
    /// Each name may itself be a comma-separated list. No names at all means no narrowing. A
    /// supervisor's name selects its whole subtree, which keeps its strategy (what `tend run --only`
    /// does in a pod exported for that supervisor); supervisors not named are left out.
    /// </summary>
    /// <exception cref="ConfigException">A name matches no app; the error suggests the nearest one.</exception>
    public static TendConfig Only(this TendConfig config, IEnumerable<string> names)
    {
        var wanted = new HashSet<string>(StringComparer.Ordinal);
        foreach (string item in names)
        {
            foreach (string part in item.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                wanted.Add(part);
            }
        }
        if (wanted.Count == 0) return config;

        var known = config.Apps.Select(a => a.Name).ToList();
        var supervisors = config.Tree.Supervisors.ToDictionary(s => s.Name, StringComparer.Ordinal);
        var errors = new List<ConfigError>();
        var keptSupervisors = new HashSet<string>(StringComparer.Ordinal);
        foreach (string name in wanted.ToList())
        {
            if (supervisors.ContainsKey(name)) Subtree(name, supervisors, wanted, keptSupervisors);
            else if (!known.Contains(name))
            {
                errors.Add(new ConfigError(config.SourcePath ?? "", 0, 0, "--only",
                    $"no app named \"{name}\"{Suggest.DidYouMean(name, [.. known, .. supervisors.Keys])}"));
            }
        }
        if (errors.Count > 0) throw new ConfigException(errors);
        var tree = config.Tree with
        {
            Supervisors = new EquatableArray<SupervisorSpec>(config.Tree.Supervisors.Where(s => keptSupervisors.Contains(s.Name))),
        };
        return config with { Apps = new EquatableArray<AppSpec>(config.Apps.Where(a => wanted.Contains(a.Name))), Tree = tree };
    }

    /// <summary>Adds the apps and supervisors under <paramref name="supervisor"/> (itself included) to the selection.</summary>
    private static void Subtree(string supervisor, Dictionary<string, SupervisorSpec> all, HashSet<string> apps, HashSet<string> supervisors)
    {
        if (!supervisors.Add(supervisor)) return;
        apps.Remove(supervisor);
        foreach (ChildRef child in all[supervisor].Children)
        {
            if (child.Kind == ChildKind.Supervisor) Subtree(child.Name, all, apps, supervisors);
            else apps.Add(child.Name);
        }
    }
}
