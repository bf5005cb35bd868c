namespace Tend.Pool;

/// <summary>
/// The program a pool's workers run. It must speak the pool protocol on the socket named by
/// <c>TEND_POOL_FD</c> (a .NET program calls <c>Tend.Pool.Worker.PoolWorker.RunAsync</c>).
/// Workers inherit the app's environment plus <see cref="Environment"/>, minus what belongs to the
/// app alone (NOTIFY_SOCKET, LISTEN_FDS and the like).
/// </summary>
/// <param name="FileName">A path, or a command searched on PATH.</param>
/// <param name="Arguments">Its arguments.</param>
public sealed record WorkerSpec(string FileName, IReadOnlyList<string> Arguments)
{
    /// <summary>Absolute; default: the app's current directory.</summary>
    public string? WorkingDirectory { get; init; }

    /// <summary>Variables added to (or replacing) the inherited ones.</summary>
    public IReadOnlyDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>();

    /// <summary>A label for logs and events ("v2"); default: the file name.</summary>
    public string? Version { get; init; }

    /// <summary>A .NET worker assembly run by the same dotnet host that runs this app.</summary>
    public static WorkerSpec Dotnet(string assemblyPath, params string[] arguments)
    {
        string? host = System.Environment.ProcessPath;
        if (host is null || !Path.GetFileName(host).StartsWith("dotnet", StringComparison.Ordinal)) host = "dotnet";
        return new WorkerSpec(host, [Path.GetFullPath(assemblyPath), .. arguments]);
    }

    /// <summary>This very program again, with <paramref name="arguments"/> (say "--worker"): an app can be
    /// its own worker, with no second project to build and ship. Works whether it runs by its apphost
    /// or as <c>dotnet app.dll</c>.</summary>
    public static WorkerSpec ThisProgram(params string[] arguments)
    {
        string host = System.Environment.ProcessPath ?? throw new InvalidOperationException("the path of this program is unknown");
        if (Path.GetFileNameWithoutExtension(host) == "dotnet")
        {
            string entry = System.Reflection.Assembly.GetEntryAssembly()?.Location
                ?? throw new InvalidOperationException("the entry assembly has no file (single-file or NativeAOT app): pass its path instead");
            return new WorkerSpec(host, [entry, .. arguments]);
        }
        return new WorkerSpec(host, arguments);
    }

    internal string Label => Version ?? Path.GetFileName(FileName);
}
