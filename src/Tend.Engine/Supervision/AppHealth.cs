namespace Tend.Supervision;

// What the health endpoints tell load balancers and orchestrators. Per app, a tier from its
// instances: healthy when every instance that should run is ready, degraded when some are not,
// critical when none is, stopped when none should run (a deliberate `tend stop` is not an outage).
// Daemon-wide: critical only when an app marked `critical: true` is critical; any other app short
// of healthy makes it degraded, which still answers 200, so one flaky side job does not take a
// whole machine out of rotation.
public static class AppHealthReader
{
    /// <summary>The daemon-wide tier over <paramref name="apps"/> (see the top of this file).</summary>
    public static HealthTier Overall(IReadOnlyList<AppHealthState> apps)
    {
        if (apps.Any(a => a.Critical && a.Tier == HealthTier.Critical)) return HealthTier.Critical;
        return apps.All(a => a.Tier is HealthTier.Healthy or HealthTier.Stopped) ? HealthTier.Healthy : HealthTier.Degraded;
    }

    /// <summary>True when every app that should run has all its wanted instances ready (GET /ready).</summary>
    public static bool AllReady(IReadOnlyList<AppHealthState> apps) => apps.All(a => a.Ready >= a.Wanted);

    /// <summary>One app's tier from its instances now.</summary>
    public static AppHealthState Of(App app)
    {
        var instances = new List<InstanceSnapshot>(app.Instances.Count);
        int wanted = 0, ready = 0;
        foreach (Instance i in app.Instances)
        {
            InstanceSnapshot now = i.Snapshot();
            bool wants = i.WantedRunning;
            if (wants) wanted++;
            if (wants && now.Ready) ready++;
            instances.Add(now);
        }
        HealthTier tier = wanted == 0 ? HealthTier.Stopped : ready == wanted ? HealthTier.Healthy : ready == 0 ? HealthTier.Critical : HealthTier.Degraded;
        return new AppHealthState(app.Name, tier, app.Spec.Critical, ready, wanted, instances);
    }
}

/// <summary>An app's or the daemon's health tier (see the top of this file).</summary>
public enum HealthTier
{
    Healthy,
    Degraded,
    Critical,
    /// <summary>No instance should run: a deliberate stop, not an outage.</summary>
    Stopped,
}

public static class HealthTierExtensions
{
    /// <summary>The lower-case name the health endpoints and the metrics use.</summary>
    public static string ToWire(this HealthTier tier) => tier switch
    {
        HealthTier.Healthy => "healthy",
        HealthTier.Degraded => "degraded",
        HealthTier.Critical => "critical",
        _ => "stopped",
    };
}

/// <summary>One app's health: its tier, whether it is critical, its ready and wanted counts, its instances.</summary>
public sealed record AppHealthState(string Name, HealthTier Tier, bool Critical, int Ready, int Wanted, IReadOnlyList<InstanceSnapshot> Instances);
