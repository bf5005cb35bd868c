namespace Tend.Tests.Support;

/// <summary>Where the built programs the tests run live (same configuration as the tests).</summary>
public static class TestPaths
{
    private static readonly Lazy<string> s_root = new(() =>
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Tend.slnx"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("repository root (Tend.slnx) not found above " + AppContext.BaseDirectory);
    });

    public static string RepoRoot => s_root.Value;

    /// <summary>Debug or Release: the folder above net10.0 in our own output path.</summary>
    public static string Configuration => new DirectoryInfo(AppContext.BaseDirectory.TrimEnd('/')).Parent!.Name;

    public static string TestChild => Path.Combine(RepoRoot, "test", "Tend.TestChild", "bin", Configuration, "net10.0", "testchild");

    /// <summary>The ASP.NET example that uses Tend.Hosting (examples/aspnet-ready), built with the tests.</summary>
    public static string ReadyDemo => Path.Combine(RepoRoot, "examples", "aspnet-ready", "bin", Configuration, "net10.0", "ReadyDemo");

    /// <summary>The ASP.NET example that renders in a Tend.Pool of worker processes (examples/pool-aspnet).</summary>
    public static string PoolDemoDir => Path.Combine(RepoRoot, "examples", "pool-aspnet");

    /// <summary>The ASP.NET example that takes its port by socket activation (examples/cluster-aspnet).</summary>
    public static string ClusterDemo => Path.Combine(RepoRoot, "examples", "cluster-aspnet", "bin", Configuration, "net10.0", "ClusterDemo");

    public static string Cli => Path.Combine(RepoRoot, "src", "Tend.Cli", "bin", Configuration, "net10.0", "tend");

    /// <summary>The daemon the CLI starts: its apphost, in daemon/ beside tend.</summary>
    public static string Daemon => Path.Combine(RepoRoot, "src", "Tend.Cli", "bin", Configuration, "net10.0", "daemon", "tend-daemon");
}
