using Tend.Health;
using Tend.Tests.Support;

namespace Tend.Tests.Health;

/// <summary>The exec probe on real processes.</summary>
public sealed class ExecProbeTests : IDisposable
{
    private static readonly TimeSpan s_bound = TimeSpan.FromSeconds(30);
    private readonly string _dir = Directory.CreateTempSubdirectory("tend-probe-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private ProbeContext Context(params (string Name, string Value)[] extra)
    {
        var env = new Dictionary<string, string> { ["PATH"] = "/usr/bin:/bin" };
        foreach (var (name, value) in extra) env[name] = value;
        return new ProbeContext(_dir, env);
    }

    private static Task<ProbeResult> CheckAsync(ProbeContext context, TimeSpan timeout, params string[] argv) =>
        new ExecProbe(argv, context, timeout).CheckAsync(CancellationToken.None).WaitAsync(s_bound);

    [Fact]
    public async Task Exec_True_Succeeds()
    {
        var result = await CheckAsync(Context(), TimeSpan.FromSeconds(10), "true");

        Assert.True(result.Success, result.Detail);
        Assert.Equal("exit code 0", result.Detail);
    }

    [Fact]
    public async Task Exec_Exit3_FailsWithExitCode()
    {
        var result = await CheckAsync(Context(), TimeSpan.FromSeconds(10), "sh", "-c", "exit 3");

        Assert.False(result.Success);
        Assert.Equal("exit code 3", result.Detail);
    }

    [Fact]
    public async Task Exec_Failure_ShowsFirstLineOfStderr()
    {
        var result = await CheckAsync(Context(), TimeSpan.FromSeconds(10),
            "sh", "-c", "echo 'to stdout'; echo; echo 'database is down' >&2; echo 'second line' >&2; exit 1");

        Assert.False(result.Success);
        Assert.Equal("exit code 1: database is down", result.Detail);
    }

    [Fact]
    public async Task Exec_KilledBySignal_SaysWhich()
    {
        var result = await CheckAsync(Context(), TimeSpan.FromSeconds(10), "sh", "-c", "kill -TERM $$");

        Assert.False(result.Success);
        Assert.Equal("killed by SIGTERM", result.Detail);
    }

    [Fact]
    public async Task Exec_Sleep_TimesOutAndLeavesNothingBehind()
    {
        // The command records its own pid and a background child's before sleeping, so the test can
        // check both are gone (the group is killed, not just the leader).
        string pids = Path.Combine(_dir, "pids");
        var result = await CheckAsync(Context(), TimeSpan.FromSeconds(2),
            "sh", "-c", $"sleep 300 & echo $$ $! > {pids}.tmp; mv {pids}.tmp {pids}; wait");

        Assert.False(result.Success);
        Assert.Equal("timed out after 2s", result.Detail);
        Assert.True(File.Exists(pids), "the command never got to record its pids (2s was not enough to start sh?)");
        int[] started = [.. File.ReadAllText(pids).Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse)];
        Assert.Equal(2, started.Length);
        // The leader is reaped before the check returns. The background sleep was SIGKILLed with its
        // group, but dies (and is reaped by whoever inherited it) a moment after kill(2) returns.
        Assert.False(ProcFs.IsRunning(started[0]), $"sh (pid {started[0]}) still running");
        await Eventually.TrueAsync(() => !ProcFs.IsRunning(started[1]), $"background sleep (pid {started[1]}) to die", TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task Exec_EnvironmentAndCwd_ArePassed()
    {
        string script = $"test \"$X\" = y && test \"$(pwd -P)\" = \"$(cd {_dir} && pwd -P)\"";

        var passes = await CheckAsync(Context(("X", "y")), TimeSpan.FromSeconds(10), "sh", "-c", script);
        var wrongValue = await CheckAsync(Context(("X", "n")), TimeSpan.FromSeconds(10), "sh", "-c", script);

        Assert.True(passes.Success, passes.Detail);
        Assert.False(wrongValue.Success);
    }

    [Fact]
    public async Task Exec_NothingInheritedFromTheDaemon()
    {
        Assert.NotNull(Environment.GetEnvironmentVariable("HOME"));

        var result = await CheckAsync(Context(), TimeSpan.FromSeconds(10), "sh", "-c", "test -z \"$HOME\"");

        Assert.True(result.Success, result.Detail);
    }

    [Fact]
    public async Task Exec_ChattyCommand_IsDrainedAndDoesNotBlock()
    {
        // 3 MiB on each stream: more than a pipe holds, so an undrained pipe would block the command
        // until the timeout.
        var result = await CheckAsync(Context(), TimeSpan.FromSeconds(20),
            "sh", "-c", "head -c 3145728 /dev/zero; head -c 3145728 /dev/zero >&2; exit 0");

        Assert.True(result.Success, result.Detail);
    }

    [Fact]
    public async Task Exec_MissingProgram_FailsWithoutThrowing()
    {
        var result = await CheckAsync(Context(), TimeSpan.FromSeconds(10), "no-such-probe-command-xyz");

        Assert.False(result.Success);
        Assert.Contains("no-such-probe-command-xyz", result.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Exec_CallerCancels_KillsTheCommandAndThrows()
    {
        string pids = Path.Combine(_dir, "pids");
        using var cts = new CancellationTokenSource();
        var check = new ExecProbe(["sh", "-c", $"echo $$ > {pids}.tmp; mv {pids}.tmp {pids}; exec sleep 30"], Context(), TimeSpan.FromMinutes(5))
            .CheckAsync(cts.Token);
        await Eventually.TrueAsync(() => File.Exists(pids), "command started");
        int pid = int.Parse(File.ReadAllText(pids).Trim());

        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => check.WaitAsync(s_bound));
        Assert.False(Directory.Exists($"/proc/{pid}") && ProcFs.IsRunning(pid), $"pid {pid} still running");
    }
}
