using Tend.Config;

namespace Tend.Tests.Config;

/// <summary>kubernetes:, min_available: and autoscale: (read for tend export kubernetes), and their mistakes with their line.</summary>
public sealed class ConfigKubernetesTests : IDisposable
{
    private readonly ConfigTestDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Load_KubernetesSettings()
    {
        AppSpec app = _dir.Load("apps:\n  web:\n    run: node web.js\n    kubernetes: { kind: statefulset, service_monitor: true, metrics_path: /m }\n    min_available: 50%\n    autoscale: { min: 2, max: 8, cpu: 60% }\n").Apps.Single();
        Assert.Equal(new KubernetesSpec
        {
            Kind = KubernetesKind.StatefulSet, ServiceMonitor = true, MetricsPath = "/m", MinAvailable = "50%", Autoscale = new AutoscaleSpec(2, 8, 60),
        }, app.Kubernetes);
    }

    [Fact]
    public void Load_BadKubernetesSettings_ExactErrors()
    {
        Assert.Equal(["ROOT/tend.yaml:4:25: apps.web.kubernetes.kind: expected deployment or statefulset, got \"pod\""],
            _dir.Errors("apps:\n  web:\n    run: node web.js\n    kubernetes: { kind: pod }\n"));
        Assert.Equal(["ROOT/tend.yaml:4:20: apps.web.min_available: expected a number of instances or a percentage such as 50%, got \"most\""],
            _dir.Errors("apps:\n  web:\n    run: node web.js\n    min_available: most\n"));
        Assert.Equal(["ROOT/tend.yaml:4:16: apps.web.autoscale.max: autoscale needs max: (the most instances)"],
            _dir.Errors("apps:\n  web:\n    run: node web.js\n    autoscale: { min: 2 }\n"));
    }
}
