using Tend.Tests.Support;

namespace Tend.Tests.Integration;

/// <summary>An app's escape sequences never reach the user's terminal through `tend logs` or `tend list`.</summary>
public sealed class TerminalSafetyTests : IAsyncLifetime
{
    private readonly TendHome _home = new();
    private Tmux? _tmux;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_tmux is not null) await _tmux.DisposeAsync();
        await _home.DisposeAsync();
    }

    [Fact]
    public async Task Logs_OnATerminal_ShowEscapesAsText_TheScreenIsNotCleared()
    {
        // Prints a marker, then "clear screen" and "cursor home" sequences, then another line.
        string config = _home.WriteConfig("""
            apps:
              evil:
                run: sh -c 'echo before-marker; printf "\033[2J\033[Hcleared?\n"; exec sleep 600'
            """);
        await _home.OkAsync("start", config);
        await Eventually.ReturnsAsync(() => _home.OkAsync("logs", "evil", "--no-follow"), r => r.Stdout.Contains("cleared?"), "the lines logged");

        _tmux = await Tmux.StartAsync($"'{TestPaths.Cli}' logs evil --no-follow; exec cat",
            new Dictionary<string, string> { ["TEND_HOME"] = _home.Dir }, 160, 30);
        string screen = await _tmux.WaitForScreenAsync(s => s.Contains("cleared?"), "the logs on the terminal");
        Assert.Contains("before-marker", screen);              // not wiped by \033[2J
        Assert.Contains("\\x1b[2J\\x1b[Hcleared?", screen);     // shown, not obeyed
    }
}
