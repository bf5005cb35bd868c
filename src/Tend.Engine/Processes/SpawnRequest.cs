namespace Tend.Processes;

/// <summary>Everything needed to start one child process.</summary>
/// <param name="FileName">A path (contains '/'; relative paths are taken from <paramref name="WorkingDirectory"/>)
/// or a bare command name searched on the child's PATH.</param>
/// <param name="Arguments">argv[1..]; argv[0] is <paramref name="FileName"/> as given.</param>
/// <param name="WorkingDirectory">Absolute path of the child's working directory.</param>
/// <param name="Environment">The complete environment of the child: nothing is inherited from the daemon.</param>
public sealed record SpawnRequest(
    string FileName,
    IReadOnlyList<string> Arguments,
    string WorkingDirectory,
    IReadOnlyDictionary<string, string> Environment)
{
    /// <summary>True: stdout and stderr on two separate pipes (<see cref="ChildProcess.StandardOutput"/>,
    /// <see cref="ChildProcess.StandardError"/>). False: both go to /dev/null. stdin is always /dev/null.</summary>
    public bool RedirectOutput { get; init; } = true;
}
