using Tend.Config;

namespace Tend.Tests.Config;

/// <summary>alerts: and channels: (docs/alerts.md): the issue's shape as written, every kind of rule, and errors with file:line.</summary>
public sealed class ConfigAlertsTests : IDisposable
{
    private readonly ConfigTestDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void TheIssuesShape_AsWritten_IsOneEventRuleWithAnInlineWebhook()
    {
        TendConfig config = _dir.Load("""
            apps:
              boom: { run: node boom.js }
            alerts:
              - name: loop
                match: boom              # app names, globs, or a supervisor's name
                on: crash_loop
                webhook: http://127.0.0.1:9000/hook
            """);

        AlertRuleSpec rule = Assert.Single(config.Alerts.Rules);
        Assert.Equal("loop", rule.Name);
        Assert.Equal(["boom"], rule.Match);
        Assert.Equal(AlertKind.Event, rule.Kind);
        Assert.Equal("crash_loop", rule.On);
        Assert.Equal("critical", rule.Severity);
        Assert.Equal(["loop"], rule.Notify);
        ChannelSpec channel = Assert.Single(config.Alerts.Channels);
        Assert.Equal(new ChannelSpec { Name = "loop", Kind = ChannelKind.Webhook, Url = "http://127.0.0.1:9000/hook" }, channel);
    }

    [Fact]
    public void EveryKindOfRuleAndChannel_ReadsIntoItsSpec()
    {
        _dir.BaseEnv["HOOK_SECRET"] = "from-env";
        TendConfig config = _dir.Load("""
            apps:
              web: { run: node web.js, instances: 2 }
              api: { run: node api.js, max_memory: 300M }
            channels:
              ops: { webhook: "http://127.0.0.1:9000/hook", secret_env: HOOK_SECRET, timeout: 3s, give_up_after: 1h }
              chat: { slack: "https://hooks.example.com/T/B/x" }
              pager: { command: "/usr/local/bin/page --now" }
              am: { alertmanager: "http://127.0.0.1:9093" }
            alerts:
              - { name: hot, match: "web*", metric: cpu, above: 90%, for: 1m, notify: [ops, chat], repeat_interval: 4h }
              - { name: big, match: [web, api], metric: memory, above: 200M }
              - { name: flappy, match: "*", metric: restarts, above: 3, window: 10m, notify: pager }
              - { name: errors, match: api, metric: log, pattern: "ERROR|FATAL", above: 10, window: 1m }
              - { name: spike, match: web, anomaly: cpu, k: 5, resolve_k: 2, min_samples: 20, baseline: 120, min_delta: 10, direction: both, notify: am }
              - { name: leak, match: api, leak: true, window: 20m, min_rate: 5M/h, min_fit: 0.9, severity: critical }
            """);

        var rules = config.Alerts.Rules.ToDictionary(r => r.Name);
        Assert.Equal((AlertKind.Threshold, "cpu", 90.0, TimeSpan.FromMinutes(1)), (rules["hot"].Kind, rules["hot"].Metric, rules["hot"].Above!.Value, rules["hot"].For));
        Assert.Equal(["ops", "chat"], rules["hot"].Notify);
        Assert.Equal(TimeSpan.FromHours(4), rules["hot"].RepeatInterval);
        Assert.Equal(200.0 * 1024 * 1024, rules["big"].Above);
        Assert.Equal(TimeSpan.FromMinutes(10), rules["flappy"].Window);
        Assert.Equal("ERROR|FATAL", rules["errors"].Pattern);
        Assert.Equal((AlertKind.Anomaly, 5.0, 2.0, 20, 120, 10.0, AnomalyDirection.Both),
            (rules["spike"].Kind, rules["spike"].K, rules["spike"].ResolveK, rules["spike"].MinSamples, rules["spike"].Baseline, rules["spike"].MinDelta!.Value, rules["spike"].Direction));
        Assert.Equal((AlertKind.Leak, "memory", TimeSpan.FromMinutes(20), 0.9), (rules["leak"].Kind, rules["leak"].Metric, rules["leak"].Window, rules["leak"].MinFit));
        Assert.Equal(5.0 * 1024 * 1024 / 3600, rules["leak"].MinRate, 6);
        var channels = config.Alerts.Channels.ToDictionary(c => c.Name);
        Assert.Equal(("from-env", TimeSpan.FromSeconds(3), TimeSpan.FromHours(1)), (channels["ops"].Secret, channels["ops"].Timeout, channels["ops"].GiveUpAfter));
        Assert.Equal(ChannelKind.Slack, channels["chat"].Kind);
        Assert.Equal(["/usr/local/bin/page", "--now"], channels["pager"].Command);
        Assert.Equal(ChannelKind.Alertmanager, channels["am"].Kind);
    }

    [Fact]
    public void BadRules_EveryProblemNamedWithItsLine()
    {
        List<string> errors = _dir.Errors("""
            apps:
              web: { run: node web.js }
            channels:
              chat: { slack: "https://hooks.example.com/x", secret: s }
              bad: { webhook: "ftp://example.com" }
            alerts:
              - { name: a, match: wbe, on: crash }
              - { name: b, match: web, on: crashed }
              - { name: c, match: web, metric: cpux, above: 1 }
              - { name: d, match: web, metric: cpu }
              - { name: e, match: web, anomaly: cpu, k: 2, resolve_k: 3 }
              - { name: f, match: web, on: crash, notify: [pagr] }
              - { name: g, match: web }
              - { name: h, match: web, on: crash, metric: cpu, above: 1 }
              - { name: a, match: web, on: oom }
            """);

        Assert.Equal(
        [
            "ROOT/tend.yaml:4:49: channels.chat.secret: secret: signs webhook: bodies; a slack channel has no signature",
            "ROOT/tend.yaml:5:19: channels.bad.webhook: expected an http:// or https:// URL, got \"ftp://example.com\"",
            "ROOT/tend.yaml:8:32: alerts[1].on: unknown event \"crashed\"; did you mean \"crash\"?; one of crash, crash_loop, errored, oom, liveness_failed, watchdog, not_ready, memory_limit, spawn_failed, blocked, held, breaker_open, reload_failed, deploy_failed, deploy_rolled_back, supervisor_failed, job_failed, job_missed, job_skipped",
            "ROOT/tend.yaml:9:36: alerts[2].metric: unknown series \"cpux\"; did you mean \"cpu\"?; one of cpu, memory, restarts, log, probe_latency, dotnet.gc_heap, dotnet.working_set, dotnet.threadpool_queue, dotnet.threadpool_threads, dotnet.time_in_gc, dotnet.alloc_rate",
            "ROOT/tend.yaml:10:28: alerts[3].metric: a metric rule needs above: or below:",
            "ROOT/tend.yaml:11:5: alerts[4].resolve_k: resolve_k (3) must be below k (2), or the alert cannot settle",
            "ROOT/tend.yaml:13:5: alerts[6]: a rule needs what it watches: on: (an event), metric: with above:/below:, anomaly: (a series) or leak: true",
            "ROOT/tend.yaml:14:39: alerts[7].metric: a rule watches one thing: it already has on: (an event) (line 14); write a second rule",
            "ROOT/tend.yaml:14:59: alerts[7].above: above:/below: belong to a metric: rule, not to on: (an event)",
            "ROOT/tend.yaml:15:13: alerts[8].name: duplicate rule name \"a\"; first used at line 7",
            // Checked once the whole file is read: apps, supervisors and channels may come after the rules.
            "ROOT/tend.yaml:7:23: alerts.a.match: no app or supervisor named \"wbe\" in this file; did you mean \"web\"?",
            "ROOT/tend.yaml:12:48: alerts.f.notify: no channel named \"pagr\": declare it under channels:",
        ], errors);
    }

    [Fact]
    public void MissingSecretVariable_IsAnError_NotAnUnsignedWebhook()
    {
        List<string> errors = _dir.Errors("""
            apps:
              web: { run: node web.js }
            alerts:
              - { name: a, match: web, on: crash, webhook: "http://127.0.0.1:1/x", secret_env: NOPE_NOT_SET }
            """);

        Assert.Equal(["ROOT/tend.yaml:4:84: alerts[0].secret_env: the environment variable NOPE_NOT_SET is not set (or empty) where tend start runs"], errors);
    }

    [Theory]
    [InlineData("1M/s", 1024 * 1024)]
    [InlineData("60M/min", 1024 * 1024)]
    [InlineData("3600K/h", 1024)]
    public void Rates_ReadAsBytesPerSecond(string text, double expected)
    {
        Assert.True(AlertSectionReader.TryParseRate(text, out double rate));
        Assert.Equal(expected, rate, 6);
    }
}
