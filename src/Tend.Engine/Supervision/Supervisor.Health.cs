using Tend.Api;

namespace Tend.Supervision;

// What the health endpoints tell load balancers and orchestrators. Per app, a tier from its
// instances: healthy when every instance that should run is ready, degraded when some are not,
// critical when none is, stopped when none should run (a deliberate `tend stop` is not an outage).
// Daemon-wide: critical only when an app marked `critical: true` is critical; any other app short
// of healthy makes it degraded, which still answers 200, so one flaky side job does not take a
// whole machine out of rotation.
public sealed partial class Supervisor
{
    public const string Healthy = "healthy", Degraded = "degraded", Critical = "critical", StoppedHealth = "stopped";

    /// <summary>The health of every app, in start order.</summary>
    public IReadOnlyList<AppHealth> AppsHealth() => [.. Apps.Select(HealthOf)];

    /// <summary>The health of one app by name; null if there is none.</summary>
    public AppHealth? AppHealthOf(string name) => Find(name) is App app ? HealthOf(app) : null;

    /// <summary>The daemon-wide tier over <paramref name="apps"/> (see the top of this file).</summary>
    public static string OverallHealth(IReadOnlyList<AppHealth> apps)
    {
        if (apps.Any(a => a.Critical && a.Status == Critical)) return Critical;
        return apps.All(a => a.Status is Healthy or StoppedHealth) ? Healthy : Degraded;
    }

    /// <summary>True when every app that should run has all its wanted instances ready (GET /ready).</summary>
    public static bool AllReady(IReadOnlyList<AppHealth> apps) => apps.All(a => a.Ready >= a.Wanted);

    private static AppHealth HealthOf(App app)
    {
        var instances = new List<InstanceHealthInfo>(app.Instances.Count);
        int wanted = 0, ready = 0;
        foreach (Instance i in app.Instances)
        {
            InstanceInfo info = i.ToInfo();
            bool wants = i.WantedRunning;
            if (wants) wanted++;
            if (wants && info.Ready) ready++;
            instances.Add(new InstanceHealthInfo(info.Instance, info.Pid, info.Status, info.Ready, info.StatusText));
        }
        string status = wanted == 0 ? StoppedHealth : ready == wanted ? Healthy : ready == 0 ? Critical : Degraded;
        return new AppHealth(app.Name, status, app.Spec.Critical, ready, wanted, instances);
    }
}
