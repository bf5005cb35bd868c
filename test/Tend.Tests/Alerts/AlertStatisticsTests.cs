using Tend.Alerts;
using Tend.Config;
using Tend.Supervision;

namespace Tend.Tests.Alerts;

/// <summary>
/// The statistics behind anomaly and leak rules, driven through the real engine with a
/// FakeTimeProvider and samples fed as the sampler would: what fires, what stays quiet, and the
/// hysteresis and frozen baseline that keep an anomaly from teaching itself.
/// </summary>
public sealed class AlertStatisticsTests : AlertEngineHarness
{
    private void Rules(params AlertRuleSpec[] rules) => Apply(rules);

    private static AlertRuleSpec Anomaly(int minSamples = 30) => new()
    {
        Name = "spike", Match = new EquatableArray<string>(["*"]), Kind = AlertKind.Anomaly, Metric = "cpu",
        K = 4, ResolveK = 2, MinSamples = minSamples, Baseline = 120,
    };

    private static AlertRuleSpec Leak(long? _ = null) => new()
    {
        Name = "leak", Match = new EquatableArray<string>(["*"]), Kind = AlertKind.Leak, Metric = "memory",
        Window = TimeSpan.FromSeconds(60), MinRate = 100 * 1024, MinFit = 0.8,
    };

    /// <summary>One sampler pass a second later, of instance web#0 (pid 100 unless told).</summary>
    private void Sample(double cpu = 0, long memory = 50L << 20, int pid = 100)
    {
        Time.Advance(TimeSpan.FromSeconds(1));
        Engine.OnSamples(new ResourcePass(Time.GetUtcNow(), [new InstanceSample("web", 0, pid, cpu, memory, null)]));
    }

    private AlertSnapshot? Alert(string rule) => Engine.Active().SingleOrDefault(a => a.Rule == rule);

    [Fact]
    public void Anomaly_CpuStepsUpAfterAStableBaseline_Fires()
    {
        Rules(Anomaly());
        var noise = new Random(7);
        for (int i = 0; i < 60; i++) Sample(cpu: 10 + noise.NextDouble() * 4); // 10..14 %

        Sample(cpu: 60);

        AlertSnapshot alert = Assert.IsType<AlertSnapshot>(Alert("spike"));
        Assert.Equal(AlertState.Firing, alert.State);
        Assert.Equal(("web", 0), (alert.App, alert.Instance));
        Assert.Contains("spreads from its baseline", alert.Description);
    }

    [Fact]
    public void Anomaly_NoiseWithinTheBaseline_DoesNotFire()
    {
        Rules(Anomaly());
        var noise = new Random(11);
        // Noisy but stationary: 5..45 % for five minutes, spikes to its own top included.
        for (int i = 0; i < 300; i++) Sample(cpu: 5 + noise.NextDouble() * 40);

        Assert.Null(Alert("spike"));
    }

    [Fact]
    public void Anomaly_TheSameStepDuringWarmUp_DoesNotFire()
    {
        Rules(Anomaly(minSamples: 30));
        for (int i = 0; i < 10; i++) Sample(cpu: 12);
        for (int i = 0; i < 20; i++) Sample(cpu: 60); // still learning: 30 samples make the baseline

        Assert.Null(Alert("spike"));
    }

    [Fact]
    public void Anomaly_FrozenWhileFiring_ThenResolvesOnlyBelowResolveK()
    {
        Rules(Anomaly());
        for (int i = 0; i < 60; i++) Sample(cpu: 10 + (i % 5)); // 10..14, median 12
        Sample(cpu: 60);
        Assert.Equal(AlertState.Firing, Alert("spike")?.State);

        // Ten minutes at the new level: a baseline that learnt it would resolve; a frozen one does not.
        for (int i = 0; i < 600; i++) Sample(cpu: 60);
        Assert.Equal(AlertState.Firing, Alert("spike")?.State);

        // Between resolve_k and k: hysteresis keeps it firing.
        Sample(cpu: 24); // median 12, spread floored at 5 points of CPU: 2.4 spreads
        Assert.Equal(AlertState.Firing, Alert("spike")?.State);

        Sample(cpu: 13);
        Assert.Null(Alert("spike"));
        AlertSnapshot resolved = Assert.Single(Engine.Report().Recent);
        Assert.Equal(AlertState.Resolved, resolved.State);
        Assert.Contains("back within its baseline", resolved.ResolvedBecause);
    }

    [Fact]
    public void Anomaly_ANewRunOfTheInstance_LearnsAfresh()
    {
        Rules(Anomaly());
        for (int i = 0; i < 60; i++) Sample(cpu: 10 + (i % 5));
        // The restarted process warms up at 60 % with a new pid: no alert, it is learning again.
        for (int i = 0; i < 20; i++) Sample(cpu: 60, pid: 200);

        Assert.Null(Alert("spike"));
    }

    [Fact]
    public void Leak_GrowingOneMegabyteASecond_FiresWithTheRateAndAProjection()
    {
        Rules(Leak());
        long memory = 50L << 20;
        var jitter = new Random(3);
        for (int i = 0; i < 70; i++)
        {
            memory += 1 << 20;
            Sample(memory: memory + jitter.Next(-200_000, 200_000));
        }

        AlertSnapshot alert = Assert.IsType<AlertSnapshot>(Alert("leak"));
        Assert.Equal(AlertState.Firing, alert.State);
        Assert.InRange(alert.Value!.Value, 0.9 * (1 << 20), 1.1 * (1 << 20));
        Assert.Contains("grows 1 MiB/s", alert.Description);
        Assert.Contains("no memory limit set", alert.Description);
    }

    [Fact]
    public void Leak_ASteadySawtooth_DoesNotFire()
    {
        Rules(Leak());
        // Allocate 2 MiB a second for 10 s, collect back to the floor: a healthy GC'd heap, for 5 minutes.
        for (int i = 0; i < 300; i++) Sample(memory: (50L << 20) + (i % 10) * (2L << 20));

        Assert.Null(Alert("leak"));
    }

    [Fact]
    public void Leak_AWarmUpThatLevelsOff_DoesNotFire()
    {
        Rules(Leak());
        // Caches fill for 40 s at 2 MiB/s, then memory stays flat: growth, but not a leak.
        long memory = 50L << 20;
        for (int i = 0; i < 200; i++)
        {
            if (i < 40) memory += 2L << 20;
            Sample(memory: memory + (i % 3) * 4096);
        }

        Assert.Null(Alert("leak"));
    }
}
