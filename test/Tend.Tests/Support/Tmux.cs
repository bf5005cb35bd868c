using System.Diagnostics;

namespace Tend.Tests.Support;

/// <summary>
/// A tmux server of the test's own (its own socket, no user config) running one detached
/// session of a fixed size: how the full-screen `tend monit` is driven and read, with send-keys
/// and capture-pane. Disposing kills the server, which hangs up on everything in its pane, and
/// deletes the socket's folder (-S in a temporary folder rather than -L, whose sockets would
/// pile up in /tmp/tmux-UID).
/// </summary>
public sealed class Tmux : IAsyncDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("tend-tmux-").FullName;

    private string Socket => Path.Combine(_dir, "s");

    private Tmux() { }

    /// <summary>Starts <paramref name="shellCommand"/> (run by sh) in a width × height session.</summary>
    public static async Task<Tmux> StartAsync(string shellCommand, IReadOnlyDictionary<string, string> env, int width, int height)
    {
        var tmux = new Tmux();
        var args = new List<string> { "new-session", "-d", "-s", "t", "-x", width.ToString(), "-y", height.ToString() };
        foreach (var (name, value) in env) args.AddRange(["-e", $"{name}={value}"]);
        args.Add(shellCommand);
        await tmux.RunAsync([.. args]);
        return tmux;
    }

    /// <summary>The visible screen as text: rows joined by '\n', each row's trailing blanks trimmed, no final newline.</summary>
    public async Task<string> CaptureAsync() => (await RunAsync("capture-pane", "-p", "-t", "t")).TrimEnd('\n');

    /// <summary>tmux key names (Down, Up, C-c) or literal characters.</summary>
    public Task SendKeysAsync(params string[] keys) => RunAsync(["send-keys", "-t", "t", .. keys]);

    /// <summary>A tmux format, e.g. #{alternate_on}, #{cursor_flag}, #{pane_pid}.</summary>
    public async Task<string> DisplayAsync(string format) => (await RunAsync("display-message", "-p", "-t", "t", format)).Trim();

    public Task ResizeAsync(int width, int height) => RunAsync("resize-window", "-t", "t", "-x", width.ToString(), "-y", height.ToString());

    /// <summary>Polls the screen until it satisfies <paramref name="condition"/>; the last screen is in the timeout's message.</summary>
    public Task<string> WaitForScreenAsync(Func<string, bool> condition, string what, TimeSpan? timeout = null) =>
        Eventually.ReturnsAsync(CaptureAsync, condition, what + " on screen", timeout);

    public async ValueTask DisposeAsync()
    {
        try
        {
            await RunAsync("kill-server");
        }
        catch (InvalidOperationException)
        {
            // Already gone (the session ended and the server with it).
        }
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    private async Task<string> RunAsync(params string[] args)
    {
        var psi = new ProcessStartInfo("tmux")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string a in (string[])["-S", Socket, "-f", "/dev/null", .. args]) psi.ArgumentList.Add(a);
        using var process = Process.Start(psi)!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await process.WaitForExitAsync(cts.Token);
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"tmux {string.Join(' ', args)} exited {process.ExitCode}: {await stderr}");
        return await stdout;
    }
}
