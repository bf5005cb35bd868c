using Tend.Alerts;
using Tend.Config;
using Tend.Events;
using Tend.Supervision;

namespace Tend.Tests.Alerts;

/// <summary>
/// The alert lifecycle on a FakeTimeProvider, with events fed as the engine publishes them: for:,
/// deduplication, the quiet period before an event alert resolves, repeat_interval, and what is sent
/// (into the persistent outbox) and when.
/// </summary>
public sealed class AlertEngineTests : AlertEngineHarness
{
    private long _seq;

    private string Outbox => Path.Combine(Home, "alerts", "outbox");

    /// <summary>Notifications queued (the channel points nowhere: they stay in the outbox to be counted).</summary>
    private string[] Queued() => [.. Directory.GetFiles(Outbox, "*.json").Select(File.ReadAllText)];

    private void Rules(params AlertRuleSpec[] rules) =>
        Apply(rules, [new ChannelSpec { Name = "hook", Kind = ChannelKind.Webhook, Url = "http://127.0.0.1:9/never", GiveUpAfter = TimeSpan.FromDays(1) }]);

    private static AlertRuleSpec OnEvent(string on, TimeSpan? @for = null, TimeSpan? repeat = null) => new()
    {
        Name = on.Replace('_', '-'), Match = new EquatableArray<string>(["*"]), Kind = AlertKind.Event, On = on,
        For = @for ?? TimeSpan.Zero, RepeatInterval = repeat, ResolveAfter = TimeSpan.FromSeconds(10),
        Notify = new EquatableArray<string>(["hook"]),
    };

    private void Event(string type, string app = "web", int? instance = 0, Dictionary<string, string>? data = null) =>
        Engine.OnEvent(new LifecycleEvent(++_seq, Time.GetUtcNow(), type, app, instance, 100, type, data));

    private void Crash() => Event(EventTypes.Exited, data: new() { ["reason"] = "exited", ["exit_code"] = "3" });
    private void Up() => Event(EventTypes.Online, data: new() { ["ready"] = "true" });

    private void Seconds(double s)
    {
        Time.Advance(TimeSpan.FromSeconds(s));
        Engine.Tick();
    }

    [Fact]
    public void Crash_FiresOnce_RepeatsAreDeduplicated_ResolvesAfterAQuietPeriodUp()
    {
        Rules(OnEvent("crash"));
        Crash();
        Seconds(1);
        Up();
        Crash(); // a loop: the same fingerprint, not a new alert
        Seconds(1);
        Up();
        Seconds(5);
        Crash(); // before the quiet period: still the same outage
        Seconds(1);
        Up();

        AlertSnapshot alert = Assert.Single(Engine.Active());
        Assert.Equal((AlertState.Firing, 2), (alert.State, alert.Repeats));
        Assert.Single(Queued());

        Seconds(9);
        Assert.Single(Engine.Active()); // up 9 s of the 10 it must be
        Seconds(2);
        Assert.Empty(Engine.Active());
        string[] sent = Queued();
        Assert.Equal(2, sent.Length);
        Assert.Contains("\"state\":\"Resolved\"", sent.Order().Last());
    }

    [Fact]
    public void For_APendingAlertFiresOnlyWhenItHeldThatLong_AndIsNeverSentIfItEndsBefore()
    {
        Rules(OnEvent("not_ready", @for: TimeSpan.FromSeconds(30)));
        Event(EventTypes.NotReady);
        Seconds(10);
        Assert.Equal(AlertState.Pending, Assert.Single(Engine.Active()).State);
        Event(EventTypes.Ready);
        Assert.Empty(Engine.Active());

        Event(EventTypes.NotReady);
        Seconds(31);
        Assert.Equal(AlertState.Firing, Assert.Single(Engine.Active()).State);
        Assert.Single(Queued());
    }

    [Fact]
    public void RepeatInterval_AFiringAlertIsSentAgain_UntilItResolves()
    {
        Rules(OnEvent("errored", repeat: TimeSpan.FromMinutes(1)));
        Event(EventTypes.Errored);
        Seconds(1);
        Assert.Single(Queued());
        for (int i = 0; i < 3; i++) Seconds(60);
        Assert.Equal(4, Queued().Length);
        Assert.Equal(3, Queued().Count(q => q.Contains("\"repeat\":true")));
    }

    [Fact]
    public async Task ADeletedApp_ResolvesItsAlerts_AndAPersistedAlertSurvivesAnEngineRestart()
    {
        Rules(OnEvent("errored"));
        Event(EventTypes.Errored);
        Seconds(1);
        string fingerprint = Assert.Single(Engine.Active()).Fingerprint;

        // A new engine over the same home: the firing alert is still there, and still resolves.
        var again = NewEngine();
        again.Start();
        try
        {
            Assert.Equal(fingerprint, Assert.Single(again.Active()).Fingerprint);
            again.OnEvent(new LifecycleEvent(++_seq, Time.GetUtcNow(), EventTypes.AppDeleted, "web", null, null, "deleted"));
            Assert.Empty(again.Active());
            Assert.Equal("the app was deleted", Assert.Single(again.Report().Recent).ResolvedBecause);
        }
        finally { await again.DisposeAsync(); }
    }

    [Fact]
    public void Fingerprint_IsRuleAppAndInstance_Stable()
    {
        Assert.Equal(AlertSnapshot.FingerprintOf("loop", "web", 0), AlertSnapshot.FingerprintOf("loop", "web", 0));
        Assert.NotEqual(AlertSnapshot.FingerprintOf("loop", "web", 0), AlertSnapshot.FingerprintOf("loop", "web", 1));
        Assert.NotEqual(AlertSnapshot.FingerprintOf("loop", "web", null), AlertSnapshot.FingerprintOf("loop", "web", 0));
        Assert.Equal(16, AlertSnapshot.FingerprintOf("a", "b", null).Length);
    }
}
