using Microsoft.Playwright;
using Tend.Dashboard.Tests.Support;
using Tend.Tests.Support;
using static Microsoft.Playwright.Assertions;

namespace Tend.Dashboard.Tests;

/// <summary>
/// Takes docs/dashboard.png: a small realistic fleet (an API with a readiness check, workers with
/// a varying CPU load, a job that keeps crashing) left to run a few minutes, so the charts have
/// history. Not a check and slow, so it runs only when asked:
/// <c>TEND_DASHBOARD_SCREENSHOT=docs/dashboard.png dotnet test test/Tend.Dashboard.Tests -c Release --filter DashboardScreenshot</c>
/// (a relative path is taken from the repository root).
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class DashboardScreenshot(BrowserFixture browser)
{
    private const string Variable = "TEND_DASHBOARD_SCREENSHOT";

    // A worker whose CPU use swings slowly (a busy share of every 200 ms that follows a sine wave),
    // printing a line a second, like a queue consumer.
    private const string Worker = """
        import math, os, sys, time
        start = time.time(); n = 0
        phase = float(sys.argv[1]) + 1.7 * int(os.environ.get("TEND_INSTANCE", "0"))
        while True:
            t = time.time() - start
            busy = 0.2 * (0.35 + 0.3 * math.sin(t / 25.0 + phase))
            end = time.time() + busy
            while time.time() < end: pass
            time.sleep(max(0.0, 0.2 - busy))
            n += 1
            if n % 5 == 0: print(f"processed batch {n // 5}: {int(busy * 400)} jobs in {int(busy * 1000)} ms", flush=True)
        """;

    private const string Config = """
        apps:
          api:
            cmd: {child}
            args: [--sleep, --echo, "listening on http://127.0.0.1:5000", --notify-ready-after, "2s", --alloc, "40"]
            instances: 2
            ready: { notify: true }
            env: { ASPNETCORE_ENVIRONMENT: Production, ConnectionStrings__Main: "Host=db;Username=app;Password=s3cr3t", JWT_SECRET: dev-only }
          worker:
            cmd: /usr/bin/python3
            args: [-u, "{home}/worker.py", "{n}"]
            instances: 2
            env: { QUEUE_URL: "amqp://worker:hunter2@mq:5672/jobs" }
          mailer:
            cmd: /usr/bin/python3
            args: [-u, "{home}/worker.py", "2"]
          report:
            cmd: {child}
            args: [--echo, "report job starting", --exit-after, "20s", --exit-code, "3"]
            restart: on-failure
        supervisors:
          backend: { strategy: rest_for_one, max_restarts: 5, within: 60s, children: [api, worker] }
        """;

    [ScreenshotFact]
    public async Task Screenshot_RealisticFleet()
    {
        string output = Path.GetFullPath(Environment.GetEnvironmentVariable(Variable)!, TestPaths.RepoRoot);
        await using var daemon = await DashboardDaemon.StartAsync(Config
            .Replace("{home}", PathPlaceholderHome, StringComparison.Ordinal)
            .Replace("{n}", "0", StringComparison.Ordinal));
        // History for the charts (TEND_DASHBOARD_SCREENSHOT_WAIT seconds, 240 unless set).
        int wait = int.TryParse(Environment.GetEnvironmentVariable(Variable + "_WAIT"), out int w) ? w : 240;
        await Task.Delay(TimeSpan.FromSeconds(wait));

        (IBrowserContext context, IPage page) = await browser.NewPageAsync(1440, 1100);
        await using var _ = context;
        await page.GotoAsync(daemon.Url + "/");
        await Expect(page.Locator("#instances tbody tr")).ToHaveCountAsync(6);
        await page.Locator("#instances tbody tr[data-name=api] td.name a").First.ClickAsync();
        await Expect(page.Locator("#details-env")).ToBeVisibleAsync();
        await page.Locator("#log-target").SelectOptionAsync("worker");
        await Task.Delay(1500);
        await page.EvaluateAsync("window.scrollTo(0, 0)");
        await page.Mouse.MoveAsync(0, 0);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = output, FullPage = true });
        // For a closer look while working on the page: the top of it at full size.
        if (Environment.GetEnvironmentVariable(Variable + "_TOP") is { Length: > 0 } top)
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = top });
    }

    /// <summary>The worker script lives in a fixed folder (the config is written before the home exists).</summary>
    private static string PathPlaceholderHome
    {
        get
        {
            string dir = Path.Combine(Path.GetTempPath(), "tend-dashboard-screenshot");
            Directory.CreateDirectory(dir);
            File.WriteAllText(Path.Combine(dir, "worker.py"), Worker);
            return dir;
        }
    }

    private sealed class ScreenshotFactAttribute : FactAttribute
    {
        public ScreenshotFactAttribute()
        {
            if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable(Variable)))
                Skip = $"takes docs/dashboard.png when {Variable} names the file";
        }
    }
}
