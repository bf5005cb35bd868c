using Tend.Api;
using Tend.Cli.Rendering;

namespace Tend.Tests.Cli.Rendering;

public sealed class DescribeTextTests
{
    internal static AppInfo SampleApp() => new(
        Name: "web",
        Command: "node",
        Args: ["server.js", "--title", "my app"],
        Cwd: "/srv/web",
        InstancesWanted: 2,
        Restart: "always",
        MaxRestarts: 15,
        MinUptimeMs: 1000,
        RestartDelayMs: 250,
        StopSignal: "SIGTERM",
        KillTimeoutMs: 5000,
        StopExitCodes: [0, 143],
        MaxMemoryBytes: 512L * 1024 * 1024,
        ConfigPath: "/srv/tend.yaml",
        Env: new Dictionary<string, string> { ["PATH"] = "/usr/bin", ["PORT"] = "3000", ["HOME"] = "/root" },
        Instances:
        [
            new InstanceDetail(0, "web", 0, 4242, "online", true, 2, 185_000, 0.5, 12_897_484, 1, null,
                new DateTimeOffset(2025, 3, 4, 5, 6, 7, TimeSpan.Zero), 1, null, "exited with code 1", "/h/logs/web-0.out.log",
                "/h/logs/web-0.err.log", 0,
                [
                    new ExitRecord(new DateTimeOffset(2025, 3, 4, 5, 0, 0, TimeSpan.Zero), 4100, 1, null, 3000, "crashed"),
                    new ExitRecord(new DateTimeOffset(2025, 3, 4, 5, 6, 6, TimeSpan.Zero), 4200, null, "SIGKILL", 120_000, "max_memory"),
                ]),
            new InstanceDetail(1, "web", 1, null, "errored", false, 15, 0, 0, 0, null, "SIGSEGV",
                null, 15, "too many restarts (15 in 60s)", null, "/h/logs/web-1.out.log", "/h/logs/web-1.err.log", 7, []),
        ],
        Backoff: new BackoffInfo(100, 15_000, 2, 0.1),
        ReloadSignal: "SIGHUP");

    [Fact]
    public void Render_DotnetInstance_ShowsItsRuntimeCounters()
    {
        AppInfo sample = SampleApp();
        InstanceDetail first = sample.Instances[0] with
        {
            Dotnet = new DotnetCountersInfo(new DateTimeOffset(2025, 3, 4, 5, 6, 9, TimeSpan.Zero), GcHeapBytes: 12 * 1024 * 1024,
                Gen0Collections: 40, Gen1Collections: 3, Gen2Collections: 1, AllocationRateBytesPerSecond: 2 * 1024 * 1024,
                AllocatedBytes: 300L * 1024 * 1024, TimeInGcPercent: 0.25, ThreadPoolThreads: 4, ThreadPoolQueueLength: 0,
                LockContentions: 7, Exceptions: 12, WorkingSetBytes: 64 * 1024 * 1024),
        };

        string text = DescribeText.Render(sample with { Instances = [first, sample.Instances[1]] }, new Dictionary<string, string>(), TimeZoneInfo.Utc, color: false);

        Assert.Contains("""
              .NET runtime (sampled 2025-03-04 05:06:09)
                gc heap       12.0mb
                collections   gen0 40, gen1 3, gen2 1
                allocations   2.0mb/s, 300.0mb in all
                time in gc    0.25 %
                thread pool   4 threads, 0 queued
                contentions   7
                exceptions    12
                working set   64.0mb
            """, text);
        // Only the instance that has counters shows the section.
        Assert.Single(text.Split(".NET runtime").Skip(1));
    }

    [Fact]
    public void Render_AppInATree_ShowsItsSupervisorsAndDependencies()
    {
        AppInfo app = SampleApp() with { Supervisors = ["root", "backend"], DependsOn = ["db (ready)", "migrate (completed)"] };

        string text = DescribeText.Render(app, new Dictionary<string, string>(), TimeZoneInfo.Utc, color: false);

        Assert.Contains("""
              config          /srv/tend.yaml
              supervisor      root › backend
              depends on      db (ready), migrate (completed)
              instances       2
            """, text);
    }

    [Fact]
    public void Render_AppWithHealthChecks_ShowsChecksStatusTextAndProbeResults()
    {
        AppInfo sample = SampleApp();
        InstanceDetail first = sample.Instances[0] with
        {
            StatusText = "serving on :8080",
            Notify = new NotifyInfo("/h/notify/0.1.sock", 5, 1, 2, null),
            Probes =
            [
                new ProbeInfo("ready", "http http://127.0.0.1:8080/ready", false, new DateTimeOffset(2025, 3, 4, 5, 6, 8, TimeSpan.Zero),
                    false, 1.5, "HTTP 503", 2, 10, 4),
            ],
        };
        AppInfo app = sample with
        {
            Ready = "notify (READY=1)", ReadyTimeoutMs = 30_000, Live = "tcp 127.0.0.1:8080 (every 5s, timeout 1s, 3 failures / 1 successes)",
            WatchdogMs = 10_000, Critical = true, Instances = [first],
        };

        string text = DescribeText.Render(app, new Dictionary<string, string>(), TimeZoneInfo.Utc, color: false);

        Assert.Contains("""
              ready           notify (READY=1), ready_timeout 30s
              live            tcp 127.0.0.1:8080 (every 5s, timeout 1s, 3 failures / 1 successes)
              watchdog        10s
              critical        yes (its outage makes /health answer 503)
            """, text);
        Assert.Contains("  status text     serving on :8080\n", text);
        Assert.Contains("  notify          5 accepted, 1 malformed, 2 from other processes (ignored)\n", text);
        Assert.Contains("""
              probes
                role   check                             state    last                 latency  checks  failures  detail
                ready  http http://127.0.0.1:8080/ready  failing  2025-03-04 05:06:08  1.5 ms   10      4         HTTP 503
            """, text);
    }

    [Fact]
    public void Render_ProbeWithRecentChecks_ShowsOneMarkPerCheckNewestRight()
    {
        AppInfo sample = SampleApp();
        var t0 = new DateTimeOffset(2025, 3, 4, 5, 6, 0, TimeSpan.Zero);
        InstanceDetail first = sample.Instances[0] with
        {
            Probes =
            [
                new ProbeInfo("ready", "exec test -e /tmp/flag", true, t0.AddSeconds(5), true, 2.0, "exit code 0", 0, 6, 2,
                [
                    new ProbeCheck(t0, true, 2.1, "exit code 0"),
                    new ProbeCheck(t0.AddSeconds(1), false, 1.9, "exit code 1"),
                    new ProbeCheck(t0.AddSeconds(2), true, 2.0, "exit code 0"),
                    new ProbeCheck(t0.AddSeconds(3), false, 2.2, "exit code 1"),
                    new ProbeCheck(t0.AddSeconds(4), true, 2.0, "exit code 0"),
                    new ProbeCheck(t0.AddSeconds(5), true, 2.0),
                ]),
                new ProbeInfo("live", "tcp 127.0.0.1:8080", true, t0, true, 0.3, "connected", 0, 1, 0, [new ProbeCheck(t0, true, 0.3, "connected")]),
                new ProbeInfo("live", "tcp 127.0.0.1:8081", true, null, null, null, null, 0, 0, 0, []),
            ],
        };
        AppInfo app = sample with { Instances = [first] };

        string text = DescribeText.Render(app, new Dictionary<string, string>(), TimeZoneInfo.Utc, color: false);

        Assert.Contains("""
                ready  recent: ✓✗✓✗✓✓ (last 6, 2 failed; newest failure 2025-03-04 05:06:03 exit code 1)
                live   recent: ✓ (last 1, 0 failed)
              recent exits
            """, text);
        Assert.Equal(2, text.Split("recent: ").Length - 1); // no line for the probe without checks yet

        string colored = DescribeText.Render(app, new Dictionary<string, string>(), TimeZoneInfo.Utc, color: true);
        Assert.Contains($"recent: {Ansi.Green}✓{Ansi.Reset}{Ansi.Red}✗{Ansi.Reset}{Ansi.Green}✓{Ansi.Reset}{Ansi.Red}✗{Ansi.Reset}{Ansi.Green}✓✓{Ansi.Reset} (", colored);
    }

    [Fact]
    public void Render_App_ShowsSpecThenEachInstance()
    {
        var callerEnv = new Dictionary<string, string> { ["PATH"] = "/usr/bin", ["HOME"] = "/home/me" };

        string text = DescribeText.Render(SampleApp(), callerEnv, TimeZoneInfo.Utc, color: false);

        Assert.Equal(
            """
            web
              command         node server.js --title 'my app'
              cwd             /srv/web
              config          /srv/tend.yaml
              instances       2
              restart         always
              max restarts    15
              min uptime      1s
              restart delay   250ms
              backoff         100ms × 2 per restart, at most 15s, ± 10%
              stop signal     SIGTERM
              reload signal   SIGHUP (tend reload is in place)
              kill timeout    5s
              stop exit codes 0, 143
              max memory      512.0mb
              ready           on spawn
              env             3 variables, 2 differ from this shell
                HOME=/root
                PORT=3000

            web#0 (id 0)
              status          online, ready
              pid             4242
              uptime          3m
              cpu             0.5%
              memory          12.3mb
              restarts        2
              unstable        1
              last exit       code 1
              status reason   -
              restart reason  exited with code 1
              started at      2025-03-04 05:06:07
              out log         /h/logs/web-0.out.log
              err log         /h/logs/web-0.err.log
              dropped lines   0
              recent exits
                time                 pid   exit     uptime  reason
                2025-03-04 05:00:00  4100  code 1   3s      crashed
                2025-03-04 05:06:06  4200  SIGKILL  2m      max_memory

            web#1 (id 1)
              status          errored
              pid             -
              uptime          -
              cpu             0%
              memory          0b
              restarts        15
              unstable        15
              last exit       SIGSEGV
              status reason   too many restarts (15 in 60s)
              restart reason  -
              started at      -
              out log         /h/logs/web-1.out.log
              err log         /h/logs/web-1.err.log
              dropped lines   7
              recent exits    none

            """.Replace("\r\n", "\n"),
            text);
    }
}
