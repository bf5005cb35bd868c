namespace Tend.Config;

/// <summary>What every app in one config file shares: the reader its errors go to, where relative paths start, the environment apps inherit, the tree being drafted.</summary>
internal sealed record ConfigFileContext(
    NodeReader Reader,
    string BaseDir,
    string DisplayDir,
    IReadOnlyDictionary<string, string> BaseEnvironment,
    TreeSectionReader.TreeDraft Tree)
{
    /// <summary>The cgroup tree of the daemon that will run the apps; resources: it cannot enforce are errors. Null: not checked.</summary>
    public Isolation.CgroupTree? Cgroups { get; init; }

    /// <summary>alerts: and channels:, checked against the apps once the whole file is read.</summary>
    public AlertSectionReader.AlertsDraft Alerts { get; } = new();
}
