namespace Tend.Cli;

/// <summary>
/// Starts the daemon process, detached from the CLI (own session, stdio to $TEND_HOME/daemon.log,
/// TEND_HOME set to <c>home</c>). Placeholder: the real implementation sits on the process layer's
/// posix_spawn and is wired in at integration, replacing this file.
/// </summary>
internal static class DaemonSpawner
{
    /// <param name="fileName">The program to run: the tend-daemon apphost, or the dotnet host for tend-daemon.dll.</param>
    /// <param name="args">Its arguments (the .dll path when run through the dotnet host).</param>
    /// <param name="home">The TEND_HOME the daemon serves.</param>
    public static void Spawn(string fileName, IReadOnlyList<string> args, string home) =>
        throw new NotSupportedException(
            $"starting the daemon is not wired yet in this build; start it yourself: TEND_HOME={home} {fileName} {string.Join(' ', args)}");
}
