namespace Tend.Config;

/// <summary>The workload an app becomes in Kubernetes.</summary>
public enum KubernetesKind
{
    Deployment,
    /// <summary>Stable pod names and ordered rollout, for apps that need an identity.</summary>
    StatefulSet,
}

/// <summary>
/// What `tend export kubernetes` needs beyond what Tend runs with (docs/kubernetes.md): the workload
/// kind, a PodDisruptionBudget (min_available), an autoscaler (autoscale), a ServiceMonitor. Tend
/// itself does not act on these on one machine.
/// </summary>
public sealed record KubernetesSpec
{
    public KubernetesKind Kind { get; init; } = KubernetesKind.Deployment;
    /// <summary>A ServiceMonitor (Prometheus operator) for the app's /metrics.</summary>
    public bool ServiceMonitor { get; init; }
    /// <summary>The path the ServiceMonitor scrapes.</summary>
    public string MetricsPath { get; init; } = "/metrics";
    /// <summary>min_available: a number of pods or a percentage ("50%"); null: no PodDisruptionBudget.</summary>
    public string? MinAvailable { get; init; }
    /// <summary>autoscale: a HorizontalPodAutoscaler; null: none.</summary>
    public AutoscaleSpec? Autoscale { get; init; }

    public static KubernetesSpec Default { get; } = new();
}

/// <summary>autoscale: { min, max, cpu: 70% } → an autoscaling/v2 HorizontalPodAutoscaler on CPU utilisation.</summary>
public sealed record AutoscaleSpec(int Min, int Max, int CpuPercent);
