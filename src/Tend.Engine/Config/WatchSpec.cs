namespace Tend.Config;

/// <summary>What a change under an app's watched paths does.</summary>
public enum WatchAction
{
    /// <summary>Every instance is stopped and started again, as `tend restart`.</summary>
    Restart,
    /// <summary>A rolling, readiness-gated replacement, as `tend reload`.</summary>
    Reload,
}

/// <summary>
/// watch: of an app (docs/config.md#watch): restart or reload it when files under <see cref="Paths"/>
/// change. Patterns are .gitignore patterns, matched against the path relative to the watched
/// directory. A watch restart is asked for, not a crash: it never counts towards max_restarts.
/// </summary>
public sealed record WatchSpec
{
    /// <summary>Absolute directories (or files) to watch; the app's cwd when none are written.</summary>
    public EquatableArray<string> Paths { get; init; } = EquatableArray<string>.Empty;
    /// <summary>Only changes matching one of these count; empty: every file.</summary>
    public EquatableArray<string> Include { get; init; } = EquatableArray<string>.Empty;
    /// <summary>Changes matching these never count, on top of <see cref="DefaultIgnore"/>.</summary>
    public EquatableArray<string> Ignore { get; init; } = EquatableArray<string>.Empty;
    /// <summary>Also ignore what each watched directory's .gitignore ignores.</summary>
    public bool Gitignore { get; init; } = true;
    /// <summary>Quiet time after the last change before acting: a burst of writes is one restart.</summary>
    public TimeSpan Debounce { get; init; } = TimeSpan.FromMilliseconds(300);
    public WatchAction Action { get; init; } = WatchAction.Restart;
    /// <summary>How often the tree is scanned when inotify cannot watch it.</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(1);
    /// <summary>At most this many inotify watches (one per directory) for this app; beyond it, polling.</summary>
    public int MaxWatches { get; init; } = DefaultMaxWatches;

    public const int DefaultMaxWatches = 16384;

    /// <summary>Never worth a restart: version control and installed packages.</summary>
    public static readonly string[] DefaultIgnore = [".git/", "node_modules/", ".hg/", ".svn/", "__pycache__/", "*.swp", "*~", ".#*"];
}
