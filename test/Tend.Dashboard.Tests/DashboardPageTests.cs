using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Tend.Api;
using Tend.Dashboard.Tests.Support;
using Tend.Security;
using Tend.Tests.Support;
using static Microsoft.Playwright.Assertions;

namespace Tend.Dashboard.Tests;

/// <summary>
/// The dashboard in headless Chromium against a real daemon: it lists the daemon's apps, follows
/// what happens to them (an instance killed and restarted), acts on them, masks secrets in the
/// details, follows and filters logs, and asks for the token when the daemon has one.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class DashboardPageTests(BrowserFixture browser)
{
    private static ILocator Row(IPage page, string app, int instance) =>
        page.Locator($"#instances tbody tr[data-name=\"{app}\"][data-instance=\"{instance}\"]");

    [Fact]
    public async Task Page_ListsTheAppsOfARealDaemon_WithTreeAndCharts()
    {
        await using var daemon = await DashboardDaemon.StartAsync();
        InstanceInfo[] list = await daemon.Home.ListAsync();
        (IBrowserContext context, IPage page) = await browser.NewPageAsync();
        await using var _ = context;

        await page.GotoAsync(daemon.Url + "/");

        foreach (InstanceInfo i in list)
        {
            ILocator row = Row(page, i.Name, i.Instance);
            await Expect(row.Locator("td.pid")).ToHaveTextAsync(i.Pid!.Value.ToString());
            await Expect(row.Locator("td.status")).ToContainTextAsync("online");
        }
        await Expect(page.Locator("#instances tbody tr")).ToHaveCountAsync(list.Length);
        await Expect(page.Locator("#tree")).ToContainTextAsync("web");
        await Expect(page.Locator("#tree")).ToContainTextAsync("worker");
        await Expect(page.Locator(".chart-card[data-app=\"web\"] svg.chart")).ToHaveCountAsync(2);
        await Expect(page.Locator("#live")).ToHaveAttributeAsync("data-state", "on");
        await Expect(page.Locator("#events")).ToContainTextAsync("online");
    }

    [Fact]
    public async Task Page_InstanceKilled_ShowsItsRestartWithANewPid()
    {
        await using var daemon = await DashboardDaemon.StartAsync();
        InstanceInfo before = (await daemon.Home.ListAsync()).Single(i => i.Name == "worker");
        (IBrowserContext context, IPage page) = await browser.NewPageAsync();
        await using var _ = context;
        await page.GotoAsync(daemon.Url + "/");
        ILocator row = Row(page, "worker", 0);
        await Expect(row.Locator("td.pid")).ToHaveTextAsync(before.Pid!.Value.ToString());

        ProcFs.Kill(before.Pid.Value, 9);

        InstanceInfo after = (await daemon.Home.WaitForAsync(
            l => l.Single(i => i.Name == "worker") is { Status: "online" } w && w.Pid != before.Pid, "worker restarted")).Single(i => i.Name == "worker");
        await Expect(row.Locator("td.pid")).ToHaveTextAsync(after.Pid!.Value.ToString());
        await Expect(row.Locator("td.restarts")).ToHaveTextAsync(after.Restarts.ToString());
        Assert.True(after.Restarts >= 1);
        await Expect(page.Locator("#events")).ToContainTextAsync("exited");
    }

    [Fact]
    public async Task StopAndRestartButtons_ActOnTheDaemon()
    {
        await using var daemon = await DashboardDaemon.StartAsync();
        InstanceInfo web1 = (await daemon.Home.ListAsync()).Single(i => i.Name == "web" && i.Instance == 1);
        (IBrowserContext context, IPage page) = await browser.NewPageAsync();
        await using var _ = context;
        await page.GotoAsync(daemon.Url + "/");

        await Row(page, "worker", 0).Locator("button.stop").ClickAsync();
        await daemon.Home.WaitForAsync(l => l.Single(i => i.Name == "worker").Status == "stopped", "worker stopped from the page");
        await Expect(Row(page, "worker", 0).Locator("td.status")).ToContainTextAsync("stopped");

        await Row(page, "web", 1).Locator("button.restart").ClickAsync();
        InstanceInfo[] list = await daemon.Home.WaitForAsync(
            l => l.Single(i => i.Name == "web" && i.Instance == 1) is { Status: "online" } w && w.Pid != web1.Pid, "web#1 restarted from the page");
        await Expect(Row(page, "web", 1).Locator("td.pid")).ToHaveTextAsync(list.Single(i => i.Name == "web" && i.Instance == 1).Pid!.Value.ToString());
        Assert.Equal("online", list.Single(i => i.Name == "web" && i.Instance == 0).Status); // the app's other instance untouched
    }

    [Fact]
    public async Task Alerts_AFiringAlertAppears_AndGoesWhenItResolves()
    {
        string flag = Path.Combine(Path.GetTempPath(), "tend-dash-" + Guid.NewGuid().ToString("N"));
        string config = $$"""
            apps:
              boom:
                cmd: /bin/sh
                args: [-c, "test -f {{flag}} && exec sleep 600; exit 3"]
                max_restarts: 1
                backoff: { initial: 50ms, max: 50ms }
            alerts:
              - { name: loop, match: boom, on: crash_loop, resolve_after: 1s }
            """;
        await using var daemon = await DashboardDaemon.StartAsync(config);
        (IBrowserContext context, IPage page) = await browser.NewPageAsync();
        await using var _ = context;
        try
        {
            await page.GotoAsync(daemon.Url + "/");

            ILocator alert = page.Locator("#alerts li[data-state=firing]");
            await Expect(alert).ToContainTextAsync("loop", new() { Timeout = 30_000 });
            await Expect(alert).ToContainTextAsync("boom#0");
            await Expect(page.Locator("#alerts-summary")).ToContainTextAsync("1 firing");

            File.WriteAllText(flag, "");
            await daemon.Home.OkAsync("restart", "boom");
            await Expect(page.Locator("#alerts")).ToContainTextAsync("no active alerts", new() { Timeout = 30_000 });
        }
        finally { File.Delete(flag); }
    }

    [Fact]
    public async Task Details_SpecWithSecretsMasked_AndScaleWorks()
    {
        await using var daemon = await DashboardDaemon.StartAsync();
        (IBrowserContext context, IPage page) = await browser.NewPageAsync();
        await using var _ = context;
        await page.GotoAsync(daemon.Url + "/");

        await Row(page, "web", 0).Locator("td.name a").ClickAsync();
        ILocator env = page.Locator("#details-env");
        await Expect(env.Locator("tr", new() { HasText = "DB_PASSWORD" })).ToContainTextAsync(SecretMask.Mask);
        await Expect(env.Locator("tr", new() { HasText = "STRIPE_API_KEY" })).ToContainTextAsync(SecretMask.Mask);
        await Expect(env.Locator("tr", new() { HasText = "PORT" })).ToContainTextAsync("8080");
        await Expect(page.Locator("#details-spec")).ToContainTextAsync(TendHome.Child);
        string html = await page.ContentAsync();
        Assert.DoesNotContain("hunter2", html);
        Assert.DoesNotContain("sk-live-abc123", html);

        await page.Locator("#scale-count").FillAsync("3");
        await page.Locator("#details-actions button[data-action=scale]").ClickAsync();
        await daemon.Home.WaitForAsync(l => l.Count(i => i.Name == "web" && i.Status == "online") == 3, "web scaled to 3 from the page");
        await Expect(page.Locator("#instances tbody tr[data-name=web]")).ToHaveCountAsync(3);
    }

    [Fact]
    public async Task Details_DotnetCounters_ShownForADotnetInstance_NotForAnotherProgram()
    {
        // web is the .NET test child: the daemon reads its runtime counters over the diagnostics
        // IPC. sleeper is /bin/sleep, which has none.
        const string config = """
            apps:
              web:
                cmd: {child}
                args: [--sleep]
              sleeper:
                cmd: /bin/sleep
                args: ["1000"]
            """;
        await using var daemon = await DashboardDaemon.StartAsync(config);
        await Eventually.ReturnsAsync(async () => (await daemon.Home.RunAsync(["describe", "web", "--json"])).Stdout,
            json => json.Contains("\"dotnet\"", StringComparison.Ordinal) && json.Contains("\"gc_heap_bytes\"", StringComparison.Ordinal),
            "web's first runtime counters sample", TimeSpan.FromSeconds(60));
        (IBrowserContext context, IPage page) = await browser.NewPageAsync();
        await using var _ = context;
        await page.GotoAsync(daemon.Url + "/");

        await Row(page, "web", 0).Locator("td.name a").ClickAsync();
        ILocator counters = page.Locator("#dotnet-0");
        await Expect(page.Locator("#details-body")).ToContainTextAsync(".NET runtime (sampled");
        await Expect(counters.Locator("tr", new() { HasText = "gc heap bytes" })).ToContainTextAsync("B");
        await Expect(counters.Locator("tr", new() { HasText = "thread pool threads" })).ToBeVisibleAsync();
        await Expect(counters.Locator("tr", new() { HasText = "gen0 collections" })).ToBeVisibleAsync();

        await Row(page, "sleeper", 0).Locator("td.name a").ClickAsync();
        await Expect(page.Locator("#details-title")).ToHaveTextAsync("sleeper");
        await Expect(page.Locator("#details-body")).Not.ToContainTextAsync(".NET runtime");
    }

    [Fact]
    public async Task Details_ProbeRecentChecks_ShownAsMarksWithAFailedOne()
    {
        // An exec readiness probe on a file the test creates: it fails until then. interval 1h: after
        // the first pass the next check is an hour away, so the marks the page shows are settled.
        string dir = Directory.CreateTempSubdirectory("tend-probe-marks-").FullName;
        string flag = Path.Combine(dir, "ready.flag");
        try
        {
            string config = $$"""
                apps:
                  probed:
                    cmd: {child}
                    args: [--sleep]
                    ready: { exec: "test -e {{flag}}", interval: 1h }
                """;
            await using var daemon = await DashboardDaemon.StartAsync(config);
            await Eventually.ReturnsAsync(async () => (await daemon.Home.DescribeAsync("probed")).Instances.Single().Probes!.Single(),
                p => p.Recent is { } r && r.Count(c => !c.Success) >= 2, "two failed readiness checks");
            await File.WriteAllTextAsync(flag, "");
            await daemon.Home.WaitForAsync(l => l.Single().Ready, "probed ready once the file exists");
            IReadOnlyList<ProbeCheck> recent = (await daemon.Home.DescribeAsync("probed")).Instances.Single().Probes!.Single().Recent!;
            (IBrowserContext context, IPage page) = await browser.NewPageAsync();
            await using var _ = context;
            await page.GotoAsync(daemon.Url + "/");

            await Row(page, "probed", 0).Locator("td.name a").ClickAsync();

            ILocator probe = page.Locator("#details-body table.probes tr[data-role=ready]");
            await Expect(probe.Locator(".mark")).ToHaveCountAsync(recent.Count);
            await Expect(probe.Locator(".mark.fail")).ToHaveCountAsync(recent.Count - 1);
            await Expect(probe.Locator(".mark.ok")).ToHaveCountAsync(1);
            await Expect(probe.Locator(".mark").Last).ToHaveClassAsync("mark ok"); // newest on the right
            await Expect(probe.Locator(".mark.fail").First).ToHaveAttributeAsync("title", new Regex(@"^\d\d:\d\d:\d\d · failed · \d+\.\d ms · exit code 1$"));
            await Expect(probe.Locator(".mark.ok")).ToHaveAttributeAsync("title", new Regex(@" · passed · \d+\.\d ms · exit code 0$"));
            await Expect(probe.Locator(".marks")).ToHaveAttributeAsync("title", $"last {recent.Count} checks, {recent.Count - 1} failed");
            await Expect(probe.Locator("svg.spark polyline")).ToHaveCountAsync(1);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task Logs_FollowNewLines_AndFilterThem()
    {
        await using var daemon = await DashboardDaemon.StartAsync();
        (IBrowserContext context, IPage page) = await browser.NewPageAsync();
        await using var _ = context;
        await page.GotoAsync(daemon.Url + "/");
        ILocator lines = page.Locator("#log-lines .line");
        await Expect(lines.Filter(new() { HasText = "hello from web" })).ToHaveCountAsync(2);
        await Expect(lines.Filter(new() { HasText = "worker up" })).ToHaveCountAsync(1);

        // A restart prints the line again: it arrives through the followed stream.
        await daemon.Home.OkAsync("restart", "worker");
        await Expect(lines.Filter(new() { HasText = "worker up" })).ToHaveCountAsync(2);

        await page.Locator("#log-filter").FillAsync("WORKER");
        await Expect(page.Locator("#log-lines .line:not(.hidden)")).ToHaveCountAsync(2);
        await Expect(page.Locator("#log-lines .line:not(.hidden)").First).ToContainTextAsync("worker up");
    }

    [Fact]
    public async Task Token_PageAsksForIt_RefusesAWrongOne_WorksWithIt()
    {
        const string token = "page-t0ken-7d41";
        await using var daemon = await DashboardDaemon.StartAsync(token: token);
        (IBrowserContext context, IPage page) = await browser.NewPageAsync();
        await using var _ = context;
        var apiStatuses = new List<int>();
        page.Response += (_, r) => { if (r.Url.Contains("/v1/list")) lock (apiStatuses) apiStatuses.Add(r.Status); };

        await page.GotoAsync(daemon.Url + "/");
        await Expect(page.Locator("#token-dialog")).ToBeVisibleAsync();
        await Expect(page.Locator("#instances tbody tr")).ToHaveCountAsync(0);

        await page.Locator("#token-input").FillAsync("wrong");
        await page.Locator("#token-submit").ClickAsync();
        await Expect(page.Locator("#token-error")).ToBeVisibleAsync();

        await page.Locator("#token-input").FillAsync(token);
        await page.Locator("#token-submit").ClickAsync();
        await Expect(page.Locator("#token-dialog")).ToBeHiddenAsync();
        await Expect(page.Locator("#instances tbody tr")).ToHaveCountAsync(3);
        lock (apiStatuses) Assert.DoesNotContain(401, apiStatuses); // the page did not read the list before it had the token

        // A link with #token= works once, and the token leaves the address bar.
        (IBrowserContext linked, IPage second) = await browser.NewPageAsync();
        await using var __ = linked;
        await second.GotoAsync(daemon.Url + "/#token=" + token);
        await Expect(second.Locator("#instances tbody tr")).ToHaveCountAsync(3);
        await Expect(second.Locator("#token-dialog")).ToBeHiddenAsync();
        Assert.DoesNotContain(token, second.Url);
    }
}
