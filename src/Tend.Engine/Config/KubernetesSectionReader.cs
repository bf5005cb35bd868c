using System.Globalization;

namespace Tend.Config;

/// <summary>kubernetes:, min_available: and autoscale: of an app (docs/kubernetes.md).</summary>
internal static class KubernetesSectionReader
{
    private static readonly string[] s_keys = ["kind", "service_monitor", "metrics_path"];
    private static readonly string[] s_autoscaleKeys = ["min", "max", "cpu"];

    internal static KubernetesSpec Read(NodeReader reader, YNode value, string field, KubernetesSpec current)
    {
        if (!reader.TryMapping(value, field, "a mapping: kind, service_monitor, metrics_path", out YMapping map)) return current;
        KubernetesSpec spec = current;
        foreach (var (key, _, node) in reader.Entries(map, field, s_keys))
        {
            string f = field + "." + key;
            switch (key)
            {
                case "kind":
                    if (reader.TryString(node, f, out string kind))
                    {
                        switch (kind.ToLowerInvariant())
                        {
                            case "deployment": spec = spec with { Kind = KubernetesKind.Deployment }; break;
                            case "statefulset": spec = spec with { Kind = KubernetesKind.StatefulSet }; break;
                            default: reader.Error(node, f, $"expected deployment or statefulset, got \"{kind}\""); break;
                        }
                    }
                    break;
                case "service_monitor":
                    if (reader.TryBool(node, f, out bool monitor)) spec = spec with { ServiceMonitor = monitor };
                    break;
                case "metrics_path":
                    if (reader.TryString(node, f, out string path))
                    {
                        if (!path.StartsWith('/')) reader.Error(node, f, $"expected a path starting with /, got \"{path}\"");
                        else spec = spec with { MetricsPath = path };
                    }
                    break;
            }
        }
        return spec;
    }

    /// <summary>min_available: 2 or "50%".</summary>
    internal static string? ReadMinAvailable(NodeReader reader, YNode value, string field)
    {
        if (!reader.TryString(value, field, out string text)) return null;
        string t = text.Trim();
        if (t.EndsWith('%') && int.TryParse(t[..^1], NumberStyles.None, CultureInfo.InvariantCulture, out int percent) && percent is >= 0 and <= 100) return t;
        if (int.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out int count) && count >= 0) return t;
        reader.Error(value, field, $"expected a number of instances or a percentage such as 50%, got \"{text}\"");
        return null;
    }

    /// <summary>autoscale: { min: 2, max: 10, cpu: 70% }.</summary>
    internal static AutoscaleSpec? ReadAutoscale(NodeReader reader, YNode value, string field)
    {
        if (!reader.TryMapping(value, field, "a mapping: min, max, cpu (a percentage)", out YMapping map)) return null;
        int errorsBefore = reader.Errors.Count;
        int? min = null, max = null, cpu = null;
        foreach (var (key, _, node) in reader.Entries(map, field, s_autoscaleKeys))
        {
            string f = field + "." + key;
            switch (key)
            {
                case "min":
                    if (reader.TryInt(node, f, 1, 10_000, out int lo)) min = lo;
                    break;
                case "max":
                    if (reader.TryInt(node, f, 1, 10_000, out int hi)) max = hi;
                    break;
                case "cpu":
                    if (reader.TryString(node, f, out string text) && text.Trim().TrimEnd('%') is var digits
                        && int.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out int p) && p is > 0 and <= 1000) cpu = p;
                    else reader.Error(node, f, $"expected a CPU utilisation such as 70%, got \"{(node as YScalar)?.Value}\"");
                    break;
            }
        }
        if (reader.Errors.Count > errorsBefore) return null;
        if (max is null) { reader.Error(map, field + ".max", "autoscale needs max: (the most instances)"); return null; }
        if (min > max) { reader.Error(map, field + ".min", $"min ({min}) is more than max ({max})"); return null; }
        return new AutoscaleSpec(min ?? 1, max.Value, cpu ?? 80);
    }
}
