namespace Tend.Cli;

/// <summary>
/// `tend run tend.yaml`: the engine in the foreground, no daemon, for containers.
/// Placeholder: replaced at integration.
/// </summary>
/// <remarks>
/// <see cref="TendCli"/> switches off System.CommandLine's own SIGINT/SIGTERM handling for `run`
/// (ProcessTerminationTimeout = null), because it would end the process two seconds after the
/// signal, cutting the stop ladder short. The runner handles the signals itself.
/// </remarks>
internal static class ForegroundRunner
{
    public static Task<int> RunAsync(string configPath, CancellationToken ct)
    {
        Console.Error.WriteLine($"tend run: not wired yet (config {configPath})");
        return Task.FromResult(2);
    }
}
