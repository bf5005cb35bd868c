
namespace Tend.Pool.Tests.Support;

/// <summary>The poolworker program (test/Tend.Pool.TestWorker) and its task shapes.</summary>
public static class TestWorker
{
    public static string Path { get; } = Find();

    public static WorkerSpec Spec(params string[] args) => new(Path, args) { Version = VersionOf(args) };

    private static string VersionOf(string[] args)
    {
        int i = Array.IndexOf(args, "--version");
        return i >= 0 ? args[i + 1] : "v1";
    }

    private static string Find()
    {
        // bin/<Configuration>/net10.0/ of this project -> the same of the worker's.
        var here = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd('/'));
        string framework = here.Name, configuration = here.Parent!.Name;
        string project = here.Parent.Parent!.Parent!.FullName;
        string path = System.IO.Path.Combine(project, "..", "Tend.Pool.TestWorker", "bin", configuration, framework, "poolworker");
        return System.IO.Path.GetFullPath(path);
    }

    /// <summary>Alive and not a zombie.</summary>
    public static bool IsRunning(int pid)
    {
        try
        {
            string stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)] != 'Z';
        }
        catch (IOException)
        {
            return false;
        }
    }
}

public static class PoolExtensions
{
    public static Task<Answer> RunAsync(this ProcessPool pool, Job job, CancellationToken ct = default) =>
        pool.InvokeAsync(job, TestJson.Default.Job, TestJson.Default.Answer, ct);
}
