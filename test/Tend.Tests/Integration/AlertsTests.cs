using System.Text.Json;
using Tend.Alerts;
using Tend.Api;
using Tend.Tests.Support;

namespace Tend.Tests.Integration;

/// <summary>
/// Alerts end to end (docs/alerts.md): a real daemon, real crashing and leaking processes, and a real
/// HTTP receiver on 127.0.0.1 that checks each delivery's HMAC signature.
/// </summary>
public sealed class AlertsTests : IAsyncLifetime
{
    private const string Secret = "s3cret-hmac-key";
    private readonly TendHome _home = new();

    public Task InitializeAsync() => Task.CompletedTask;
    public async Task DisposeAsync() => await _home.DisposeAsync();

    private string Flag => Path.Combine(_home.Dir, "fixed");

    /// <summary>An app that exits 3 until a flag file exists, then stays up: a crash loop someone fixes.</summary>
    private string CrashLoopConfig(string webhook) => _home.WriteConfig($$"""
        apps:
          boom:
            cmd: /bin/sh
            args: [-c, "test -f {{Flag}} && exec sleep 600; exit 3"]
            max_restarts: 2
            backoff: { initial: 50ms, max: 100ms }
        alerts:
          - name: loop
            match: boom
            on: crash_loop
            webhook: {{webhook}}
            secret: {{Secret}}
            resolve_after: 1s
        """);

    private static JsonElement Verified(WebhookReceiver.Delivery d)
    {
        Assert.Equal(AlertChannels.Sign(Secret, d.Body), d.Headers["X-Tend-Signature"]);
        Assert.DoesNotContain(Secret, d.Text);
        return JsonDocument.Parse(d.Body).RootElement;
    }

    private async Task<AlertsInfo> AlertsAsync()
    {
        CliResult r = await _home.OkAsync("alerts", "--json");
        return JsonSerializer.Deserialize(r.Stdout, TendJsonContext.Default.AlertsInfo)!;
    }

    [Fact]
    public async Task CrashLoop_OneFiringThenOneResolve_PerFingerprint_Signed()
    {
        await using var receiver = new WebhookReceiver().Start();
        await _home.OkAsync("start", CrashLoopConfig(receiver.Url()));

        await Eventually.TrueAsync(() => receiver.Received.Count >= 1, "the firing delivered");
        AlertsInfo active = await AlertsAsync();
        AlertInfo alert = Assert.Single(active.Active);
        Assert.Equal(("loop", "boom", 0, "firing", "critical"), (alert.Rule, alert.App, alert.Instance, alert.State, alert.Severity));

        // Fixed, and restarted by hand: up for resolve_after, the alert resolves.
        File.WriteAllText(Flag, "");
        await _home.OkAsync("restart", "boom");
        await Eventually.TrueAsync(() => receiver.Received.Count >= 2, "the resolve delivered");
        await Task.Delay(TimeSpan.FromSeconds(2)); // nothing more may come

        WebhookReceiver.Delivery[] got = [.. receiver.Received];
        Assert.Equal(2, got.Length);
        JsonElement firing = Verified(got[0]), resolved = Verified(got[1]);
        Assert.Equal("firing", firing.GetProperty("status").GetString());
        Assert.Equal("resolved", resolved.GetProperty("status").GetString());
        JsonElement a0 = firing.GetProperty("alerts")[0], a1 = resolved.GetProperty("alerts")[0];
        Assert.Equal(a0.GetProperty("fingerprint").GetString(), a1.GetProperty("fingerprint").GetString());
        Assert.Equal(alert.Fingerprint, a0.GetProperty("fingerprint").GetString());
        Assert.Equal("boom", a0.GetProperty("labels").GetProperty("app").GetString());
        Assert.Equal("loop", a0.GetProperty("labels").GetProperty("alertname").GetString());
        Assert.NotEqual("0001-01-01T00:00:00Z", a1.GetProperty("endsAt").GetString());

        AlertsInfo after = await AlertsAsync();
        Assert.Empty(after.Active);
        Assert.Equal(alert.Fingerprint, Assert.Single(after.Recent).Fingerprint);

        // Both are events, and /metrics has no ALERTS sample left.
        CliResult events = await _home.OkAsync("events", "--no-follow");
        Assert.Contains("alert loop firing", events.Stdout);
        Assert.Contains("alert loop resolved", events.Stdout);
    }

    [Fact]
    public async Task ReceiverDown_TheFiringIsDeliveredOnceItComesBack()
    {
        var receiver = new WebhookReceiver(); // not listening yet
        await _home.OkAsync("start", CrashLoopConfig(receiver.Url()));

        AlertsInfo waiting = await Eventually.ReturnsAsync(AlertsAsync, r => r.OutboxPending == 1 && r.FailedAttempts >= 1, "the delivery failing");
        Assert.Equal("firing", Assert.Single(waiting.Active).State);
        await Task.Delay(TimeSpan.FromSeconds(10)); // the receiver stays down for 10 s

        await using (receiver.Start())
        {
            await Eventually.TrueAsync(() => receiver.Received.Count == 1, "the firing delivered after the receiver came back", TimeSpan.FromSeconds(60));
            Assert.Equal("firing", Verified(receiver.Received.Single()).GetProperty("status").GetString());
            AlertsInfo after = await Eventually.ReturnsAsync(AlertsAsync, r => r.OutboxPending == 0, "the outbox empty");
            Assert.Empty(after.Undeliverable);
        }
    }

    [Fact]
    public async Task Undeliverable_IsRecorded_NeverDroppedSilently()
    {
        int deadPort = FreePorts.Next();
        string config = _home.WriteConfig($$"""
            apps:
              boom:
                cmd: /bin/sh
                args: [-c, "exit 3"]
                max_restarts: 1
                backoff: { initial: 50ms, max: 50ms }
            channels:
              dead: { webhook: "http://127.0.0.1:{{deadPort}}/hook", give_up_after: 3s }
            alerts:
              - { name: loop, match: boom, on: crash_loop, notify: dead }
            """);
        await _home.OkAsync("start", config);

        AlertsInfo report = await Eventually.ReturnsAsync(AlertsAsync, r => r.Undeliverable.Count == 1, "the notification given up on");
        UndeliverableInfo lost = report.Undeliverable.Single();
        Assert.Equal(("loop", "dead", "firing"), (lost.Rule, lost.Channel, lost.Status));
        Assert.True(lost.Attempts >= 2, $"{lost.Attempts} attempts");
        Assert.Contains("127.0.0.1", lost.LastError);
        Assert.Contains("\"rule\":\"loop\"", File.ReadAllText(Path.Combine(_home.Dir, "alerts", "undeliverable.jsonl")));
        CliResult events = await _home.OkAsync("events", "--no-follow");
        Assert.Contains("could not be delivered to dead", events.Stdout);
        CliResult text = await _home.OkAsync("alerts");
        Assert.Contains("undeliverable (1", text.Stdout);
    }

    [Fact]
    public async Task Leak_AGrowingChildFiresWithAProjection_ASawtoothDoesNot()
    {
        string config = _home.WriteConfig($$"""
            apps:
              leaky:
                cmd: {{TendHome.Child}}
                args: [--grow, "1", --sleep]
                max_memory: 2G
              saw:
                cmd: {{TendHome.Child}}
                args: [--sawtooth, "12", --sleep]
            alerts:
              - { name: leak, match: "*", leak: rss, window: 20s, min_rate: 200K/s }
            """);
        await _home.OkAsync("start", config);

        AlertsInfo report = await Eventually.ReturnsAsync(AlertsAsync, r => r.Active.Any(a => a.App == "leaky" && a.State == "firing"),
            "the leak alert", TimeSpan.FromSeconds(90));
        AlertInfo leak = report.Active.Single(a => a.App == "leaky");
        Assert.InRange(leak.Value!.Value, 0.6 * 1024 * 1024, 1.4 * 1024 * 1024);
        Assert.Contains("reaches max_memory 2 GiB in about", leak.Description);
        // The sawtooth had as long (and longer: another 10 s) to look like a leak.
        await Task.Delay(TimeSpan.FromSeconds(10));
        Assert.DoesNotContain((await AlertsAsync()).Active, a => a.App == "saw");
    }

    [Fact]
    public async Task ProbeLatency_ASlowCheckFires_AFastOneDoesNot()
    {
        string config = _home.WriteConfig($$"""
            apps:
              slow:
                cmd: {{TendHome.Child}}
                args: [--sleep]
                live: { exec: "sleep 0.3", interval: 500ms, timeout: 5s }
              fast:
                cmd: {{TendHome.Child}}
                args: [--sleep]
                live: { exec: "true", interval: 500ms }
            alerts:
              - { name: sluggish, match: "*", metric: probe_latency, above: 200ms, for: 1s }
            """);
        await _home.OkAsync("start", config);

        AlertsInfo report = await Eventually.ReturnsAsync(AlertsAsync, r => r.Active.Any(a => a.State == "firing"), "the slow probe's alert");
        AlertInfo alert = Assert.Single(report.Active);
        Assert.Equal("slow", alert.App);
        Assert.InRange(alert.Value!.Value, 0.25, 5);
        Assert.Contains("probe_latency", alert.Description);
    }

    [Fact]
    public async Task Metrics_ExportPendingAndFiringAlertsAsALERTS()
    {
        string config = _home.WriteConfig($$"""
            apps:
              idle: { cmd: {{TendHome.Child}}, args: [--sleep] }
            alerts:
              - { name: tiny, match: idle, metric: memory, above: 1K, for: 1h }
            """);
        await _home.OkAsync("start", config);

        AlertsInfo report = await Eventually.ReturnsAsync(AlertsAsync, r => r.Active.Count == 1, "the pending alert");
        Assert.Equal("pending", report.Active.Single().State);
        using HttpClient api = _home.ApiClient();
        string metrics = await api.GetStringAsync("/metrics");
        Assert.Contains("ALERTS{alertname=\"tiny\",alertstate=\"pending\",app=\"idle\",instance=\"0\",severity=\"warning\"} 1", metrics);

        // Deleting every app of the file takes its rules along.
        await _home.OkAsync("delete", "all");
        await Eventually.ReturnsAsync(AlertsAsync, r => r.Rules == 0 && r.Active.Count == 0, "no rules left");
        Assert.Contains("no alert rules", (await _home.OkAsync("alerts")).Stdout);
    }

    [Fact]
    public async Task Thresholds_OnLogLinesAndRestarts_FireForTheAppThatCrossesThem()
    {
        string config = _home.WriteConfig($$"""
            apps:
              noisy:
                cmd: /bin/sh
                args: [-c, "while true; do echo 'ERROR db timeout'; echo fine; sleep 0.1; done"]
              quiet:
                cmd: /bin/sh
                args: [-c, "while true; do echo fine; sleep 0.1; done"]
              flappy:
                cmd: /bin/sh
                args: [-c, "sleep 0.3; exit 1"]
                min_uptime: 100ms
                backoff: { initial: 50ms, max: 50ms }
            alerts:
              - { name: errors, match: [noisy, quiet], metric: log, pattern: "ERROR", above: 5, window: 10s }
              - { name: flapping, match: "*", metric: restarts, above: 3, window: 1m }
            """);
        await _home.OkAsync("start", config);

        AlertsInfo report = await Eventually.ReturnsAsync(AlertsAsync,
            r => r.Active.Any(a => a.Rule == "errors" && a.State == "firing") && r.Active.Any(a => a.Rule == "flapping" && a.State == "firing"),
            "both alerts firing", TimeSpan.FromSeconds(60));
        Assert.Equal("noisy", Assert.Single(report.Active, a => a.Rule == "errors").App);
        Assert.Equal("flappy", Assert.Single(report.Active, a => a.Rule == "flapping").App);
        Assert.Contains("within 10s", report.Active.Single(a => a.Rule == "errors").Description);
    }

    [Fact]
    public async Task EveryChannelKind_GetsTheFiring_InItsOwnShape()
    {
        await using var receiver = new WebhookReceiver().Start();
        string envFile = Path.Combine(_home.Dir, "command.env");
        string config = _home.WriteConfig($$"""
            apps:
              boom:
                cmd: /bin/sh
                args: [-c, "exit 3"]
                max_restarts: 1
                backoff: { initial: 50ms, max: 50ms }
            channels:
              chat: { slack: "{{receiver.Url("/slack/T000/B000/XXXX")}}" }
              am: { alertmanager: "{{receiver.Url("/am")}}" }
              script: { command: [/bin/sh, -c, "env | grep ^TEND_ALERT_ > {{envFile}}"] }
            alerts:
              - { name: loop, match: boom, on: crash_loop, notify: [chat, am, script], summary: "boom is crash-looping" }
            """);
        await _home.OkAsync("start", config);

        await Eventually.TrueAsync(() => receiver.Received.Count >= 2 && File.Exists(envFile), "slack, alertmanager and the command");
        WebhookReceiver.Delivery slack = receiver.Received.Single(d => d.Path.StartsWith("/slack/"));
        Assert.StartsWith("[FIRING] loop on boom#0 (critical): boom is crash-looping", JsonDocument.Parse(slack.Body).RootElement.GetProperty("text").GetString());
        Assert.False(slack.Headers.ContainsKey("X-Tend-Signature"));
        WebhookReceiver.Delivery am = receiver.Received.Single(d => d.Path == "/am/api/v2/alerts");
        JsonElement posted = JsonDocument.Parse(am.Body).RootElement[0];
        Assert.Equal("loop", posted.GetProperty("labels").GetProperty("alertname").GetString());
        Assert.Equal("critical", posted.GetProperty("labels").GetProperty("severity").GetString());
        Assert.False(posted.TryGetProperty("endsAt", out _));
        string env = await Eventually.ReturnsAsync(() => File.ReadAllText(envFile), t => t.Contains("TEND_ALERT_JSON"), "the command's environment");
        Assert.Contains("TEND_ALERT_STATUS=firing", env);
        Assert.Contains("TEND_ALERT_NAME=loop", env);
        Assert.Contains("TEND_ALERT_APP=boom", env);
        Assert.Contains("TEND_ALERT_SUMMARY=boom is crash-looping", env);
    }
}
