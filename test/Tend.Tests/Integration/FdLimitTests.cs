using System.Diagnostics;
using Tend.Api;
using Tend.Tests.Support;

namespace Tend.Tests.Integration;

/// <summary>
/// A daemon with too few file descriptors (ulimit -n 400; the daemon itself holds about 190 at rest) asked for 200 instances: starts beyond
/// the budget fail with a reason naming the limit, the daemon keeps answering, and nothing leaks.
/// (It once died of an OutOfMemoryException at Thread.Start and left a child under init.)
/// </summary>
public sealed class FdLimitTests : IAsyncLifetime
{
    private readonly TendHome _home = new();

    public Task InitializeAsync() => Task.CompletedTask;
    public async Task DisposeAsync() => await _home.DisposeAsync();

    [Fact]
    public async Task TwoHundredInstancesUnderUlimit400_FailedStartsNameTheLimit_DaemonLives_NothingLeaks()
    {
        string config = _home.WriteConfig("""
            apps:
              many: { run: sleep 600, instances: 200, max_restarts: 2, backoff: { initial: 100ms, max: 200ms } }
            """);
        // The daemon inherits the limit from the tend that starts it.
        var psi = new ProcessStartInfo("prlimit", ["--nofile=400:400", "--", TestPaths.Cli, "start", config])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.Environment["TEND_HOME"] = _home.Dir;
        using (Process start = Process.Start(psi)!)
        {
            string err = await start.StandardError.ReadToEndAsync();
            await start.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(120));
            Assert.True(start.ExitCode == 0, err);
        }
        int daemon = _home.DaemonPid!.Value;
        Assert.Contains("Max open files            400", File.ReadAllText($"/proc/{daemon}/limits"));

        // Some run, the rest fail their start with a reason that names the limit, and give up.
        InstanceInfo[] list = await _home.WaitForAsync(l => l.Length == 200 && l.All(i => i.Status is "online" or "errored"), "every instance running or given up", TimeSpan.FromSeconds(90));
        Assert.Contains(list, i => i.Status == "online");
        InstanceInfo failed = Assert.Single(list.Where(i => i.Status == "errored").Take(1));
        AppInfo described = await _home.DescribeAsync($"many#{failed.Instance}");
        // The reason of the last failed start names the limit (in the crash-loop verdict and in the exit record).
        InstanceDetail detail = described.Instances.Single();
        Assert.Contains("crash loop", detail.StatusReason);
        Assert.Contains(detail.RecentExits, e => e.Reason.Contains("too few file descriptors") && e.Reason.Contains("limit of 400"));

        // The daemon still answers and acts, and says how close it is to its limit.
        Assert.True(ProcFs.IsRunning(daemon));
        Assert.Matches(@"fds \d+/400\)", (await _home.OkAsync("ping")).Stdout);
        int running = list.Count(i => i.Status == "online");
        await _home.OkAsync("restart", "many#0");
        Assert.Equal(daemon, _home.DaemonPid);

        // Every live process is one the daemon knows. One caught on its way out (a start that failed
        // after its spawn is killed, and the kernel may not have finished it) is not a leak; one
        // still running seconds later is. (A CI run once caught such a pid; which it was is lost.)
        InstanceInfo[] now = await _home.ListAsync();
        var pids = now.Where(i => i.Pid is not null).Select(i => i.Pid!.Value).ToHashSet();
        var strays = _home.LiveProcesses().Where(p => p != daemon && !pids.Contains(p)).ToList();
        if (strays.Count > 0)
        {
            string seen = string.Join("; ", strays.Select(p =>
                $"{p} (parent {ProcFs.ReadParentPid(p)}): {string.Join(' ', ProcFs.CommandLine(p))}"));
            await Eventually.TrueAsync(() => !strays.Any(ProcFs.IsRunning),
                $"processes the daemon does not list to end: {seen}", TimeSpan.FromSeconds(10));
        }
        Assert.InRange(pids.Count, running - 1, running + 1);
    }
}
