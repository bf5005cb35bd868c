namespace Tend.Config;

public static class TendConfigSelection
{
    /// <summary>
    /// The config narrowed to the named apps (for <c>--only a,b</c>), still in declaration order.
    /// Each name may itself be a comma-separated list. No names at all means no narrowing.
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
        var errors = new List<ConfigError>();
        foreach (string name in wanted)
        {
            if (!known.Contains(name))
            {
                errors.Add(new ConfigError(config.SourcePath ?? "", 0, 0, "--only",
                    $"no app named \"{name}\"{Suggest.DidYouMean(name, known)}"));
            }
        }
        if (errors.Count > 0) throw new ConfigException(errors);
        return config with { Apps = new EquatableArray<AppSpec>(config.Apps.Where(a => wanted.Contains(a.Name))) };
    }
}
