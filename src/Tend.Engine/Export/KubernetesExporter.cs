using System.Globalization;
using System.Text;
using Tend.Config;
using Tend.Processes;
using Tend.Security;

namespace Tend.Export;

/// <summary>What the export could not carry over as it is, and why (printed by `tend export kubernetes`).</summary>
public sealed record ExportNote(string App, string Key, string What)
{
    public override string ToString() => $"{App}: {Key}: {What}";
}

/// <param name="Images">Container image per app (--image app=REF); an app without one gets a placeholder, reported.</param>
/// <param name="BaseEnvironment">The environment the config was loaded in: variables with the same value there are
/// the shell's, not the app's, and are left out.</param>
/// <param name="ConfigInImage">Where the image holds the tend.yaml, for apps that run under `tend run` in their pod.</param>
public sealed record KubernetesExportOptions(
    IReadOnlyDictionary<string, string> Images,
    IReadOnlyDictionary<string, string> BaseEnvironment,
    string? Namespace = null,
    bool Kustomize = false,
    string ConfigInImage = "/etc/tend/tend.yaml");

/// <summary>The files (name → YAML), in a stable order, and the report.</summary>
public sealed record KubernetesExport(IReadOnlyList<KeyValuePair<string, string>> Files, IReadOnlyList<ExportNote> Notes);

/// <summary>
/// tend.yaml → Kubernetes manifests (docs/kubernetes.md): one workload per app (a Deployment, or a
/// StatefulSet with kubernetes: { kind: statefulset }; a CronJob for a job), its Service for listen:,
/// a ConfigMap and a Secret for its environment, probes from ready:/live:, a PodDisruptionBudget, a
/// HorizontalPodAutoscaler and a ServiceMonitor when asked. What has no equivalent is reported,
/// never dropped silently. Output is deterministic: the same config gives the same bytes.
/// </summary>
public static class KubernetesExporter
{
    /// <summary>Where Tend's health listener is reached in a pod that runs `tend run`.</summary>
    public const int TendHealthPort = 8363;

    private const string NameLabel = "app.kubernetes.io/name";

    public static KubernetesExport Export(TendConfig config, KubernetesExportOptions options)
    {
        var notes = new List<ExportNote>();
        var files = new List<KeyValuePair<string, string>>();
        IReadOnlyDictionary<string, int> lines = AppLines(config.SourcePath);
        string source = config.SourcePath is { } p ? Path.GetFileName(p) : "tend.yaml";
        foreach (string unknown in options.Images.Keys.Where(k => config.Apps.All(a => a.Name != k)).Order(StringComparer.Ordinal))
            notes.Add(new ExportNote(unknown, "--image", "no app of that name in the config"));
        // Supervisors whose strategy ties their children together become one pod running that subtree
        // under `tend run`, so one_for_all and rest_for_one still hold; the outermost such supervisor wins.
        var supervisors = config.Tree.Supervisors.ToDictionary(s => s.Name, StringComparer.Ordinal);
        var parents = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (SupervisorSpec sup in config.Tree.Supervisors)
            foreach (ChildRef child in sup.Children) parents[child.Kind + ":" + child.Name] = sup.Name;
        bool TiedAbove(string sup)
        {
            for (string? p = parents.GetValueOrDefault("Supervisor:" + sup); p is not null; p = parents.GetValueOrDefault("Supervisor:" + p))
                if (supervisors[p].Strategy != SupervisorStrategy.OneForOne) return true;
            return false;
        }
        var pods = config.Tree.Supervisors.Where(s => s.Strategy != SupervisorStrategy.OneForOne && !TiedAbove(s.Name)).ToList();
        var inPod = new Dictionary<string, SupervisorSpec>(StringComparer.Ordinal);
        foreach (SupervisorSpec pod in pods)
            foreach (string member in AppsUnder(pod, supervisors)) inPod[member] = pod;
        // A one-shot app that others wait for (depends_on: completed) runs as their init container.
        var initOnly = config.Apps.Where(a => a.Job is null && a.Restart == RestartPolicy.Never && !inPod.ContainsKey(a.Name)
            && config.Apps.Any(d => d.DependsOn.Any(x => x.App == a.Name && x.Condition == DependencyCondition.Completed))).Select(a => a.Name).ToHashSet(StringComparer.Ordinal);

        foreach (SupervisorSpec pod in pods)
        {
            var members = config.Apps.Where(a => inPod.TryGetValue(a.Name, out SupervisorSpec? p) && p == pod).ToList();
            string name = DnsName(pod.Name);
            notes.Add(new ExportNote(pod.Name, "supervisors", $"{(pod.Strategy == SupervisorStrategy.OneForAll ? "one_for_all" : "rest_for_one")}: exported as one pod running `tend run {options.ConfigInImage} --only {pod.Name}` ({string.Join(", ", members.Select(m => m.Name))}), so the strategy holds; it has one replica"));
            var objects = new SubtreeExport(pod, name, members, options, notes).Objects().ToList();
            files.Add(new(name + ".yaml", Render(objects, name, $"{source} (supervisors.{pod.Name})")));
        }
        foreach (AppSpec app in config.Apps)
        {
            if (inPod.ContainsKey(app.Name)) continue;
            string name = DnsName(app.Name);
            if (name != app.Name) notes.Add(new ExportNote(app.Name, "name", $"\"{app.Name}\" is not a Kubernetes name; exported as {name}"));
            var inits = app.DependsOn.Where(d => initOnly.Contains(d.App)).Select(d => config.Apps.First(a => a.Name == d.App)).ToList();
            var export = new AppExport(app, name, options, notes, config.SourcePath is { } sp ? Path.GetDirectoryName(sp) : null, inits);
            var objects = (initOnly.Contains(app.Name) ? export.InitOnlyObjects(config.Apps.Where(d => d.DependsOn.Any(x => x.App == app.Name)).Select(d => d.Name)) : export.Objects()).ToList();
            if (objects.Count == 0) continue;
            string comment = lines.TryGetValue(app.Name, out int line) ? $"{source}:{line} (apps.{app.Name})" : $"{source} (apps.{app.Name})";
            files.Add(new(name + ".yaml", Render(objects, name, comment)));
        }
        files.Sort((a, b) => StringComparer.Ordinal.Compare(a.Key, b.Key));
        if (options.Kustomize)
        {
            var kustomization = new KMap
            {
                { "apiVersion", "kustomize.config.k8s.io/v1beta1" },
                { "kind", "Kustomization" },
                { "namespace", options.Namespace },
                { "resources", files.Select(f => (object)f.Key).ToList() },
            };
            files.Add(new("kustomization.yaml", ManifestYaml.Document(kustomization, [$"from {source}; made by tend export kubernetes"])));
        }
        return new KubernetesExport(files, notes);
    }

    public static string DnsNameOf(string name) => DnsName(name);

    private static string Render(List<KMap> objects, string name, string comment)
    {
        var text = new StringBuilder();
        for (int i = 0; i < objects.Count; i++)
        {
            if (i > 0) text.Append("---\n");
            string objectName = objects[i]["metadata"] is KMap m && m["name"] is string n ? n : name;
            text.Append(ManifestYaml.Document(objects[i], [$"{objects[i]["kind"]} {objectName}, from {comment}; made by tend export kubernetes"]));
        }
        return text.ToString();
    }

    /// <summary>The TCP ports of an app's listen: addresses ("8080", "host:8080", "[v6]:8080"), in order, once each; unix sockets have none.</summary>
    private static List<int> ListenPorts(AppSpec app)
    {
        var ports = new List<int>();
        foreach (string address in app.Listen)
        {
            if (address.StartsWith('/')) continue;
            int colon = address.LastIndexOf(':');
            if (int.TryParse(colon < 0 ? address : address[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out int port) && !ports.Contains(port))
                ports.Add(port);
        }
        return ports;
    }

    private static IEnumerable<string> AppsUnder(SupervisorSpec supervisor, Dictionary<string, SupervisorSpec> all)
    {
        foreach (ChildRef child in supervisor.Children)
        {
            if (child.Kind == ChildKind.App) yield return child.Name;
            else foreach (string app in AppsUnder(all[child.Name], all)) yield return app;
        }
    }

    /// <summary>A DNS-1123 label: lower case letters, digits and '-', starting and ending with a letter or digit, at most 63.</summary>
    internal static string DnsName(string name)
    {
        var text = new StringBuilder();
        foreach (char c in name.ToLowerInvariant()) text.Append(c is >= 'a' and <= 'z' or >= '0' and <= '9' ? c : '-');
        string s = text.ToString().Trim('-');
        if (s.Length > 63) s = s[..63].TrimEnd('-');
        return s.Length == 0 ? "app" : s;
    }

    /// <summary>The line of each app's key in the file, for the comments.</summary>
    private static IReadOnlyDictionary<string, int> AppLines(string? path)
    {
        var lines = new Dictionary<string, int>(StringComparer.Ordinal);
        if (path is null || !File.Exists(path)) return lines;
        if (YamlTreeReader.Read(File.ReadAllText(path), path, []) is YMapping top &&
            top.Entries.FirstOrDefault(e => e.Key is YScalar { Value: "apps" }).Value is YMapping apps)
        {
            foreach (var (key, _) in apps.Entries)
                if (key is YScalar s) lines[s.Value] = key.Start.Line;
        }
        return lines;
    }

    /// <summary>One app's objects, and its notes.</summary>
    private sealed class AppExport(AppSpec app, string name, KubernetesExportOptions options, List<ExportNote> notes, string? configDir, List<AppSpec> inits)
    {
        private void Note(string key, string what) => notes.Add(new ExportNote(app.Name, key, what));

        private KMap Labels() => new() { { NameLabel, name }, { "app.kubernetes.io/managed-by", "tend" } };

        private KMap Metadata(string objectName) => new()
        {
            { "name", objectName },
            { "namespace", options.Kustomize ? null : options.Namespace },
            { "labels", Labels() },
        };

        /// <summary>Does it need Tend inside its pod (readiness the app says itself, a log probe, Node's IPC channel, a watchdog, socket activation)?</summary>
        private string? TendRunReason() =>
            app.Ready?.Notify == true ? "ready: notify (READY=1 over NOTIFY_SOCKET)"
            : app.Ready?.Message is not null || app.NodeIpc ? "Node's IPC channel (process.send)"
            : app.Ready?.Probe?.Kind == ProbeKind.Log ? "a log: probe"
            : app.Live?.Kind == ProbeKind.Log ? "a log: probe"
            : app.Watchdog is not null ? "watchdog: (WATCHDOG=1)"
            : app.Listen.Count > 0 && app.ListenMode == ListenMode.Socket ? "listen_mode: socket (the listening socket at fd 3)"
            : null;

        /// <summary>A one-shot app others wait for: it runs as their init container, so only its environment is an object of its own.</summary>
        public IEnumerable<KMap> InitOnlyObjects(IEnumerable<string> dependents)
        {
            Note("depends_on", $"a one-shot app that {string.Join(", ", dependents)} wait(s) for (completed): it runs as their init container, once per pod of each");
            (KMap? configMap, KMap? secret) = Environment();
            if (configMap is not null) yield return configMap;
            if (secret is not null) yield return secret;
        }

        /// <summary>This app as another pod's init container: its command, image and environment, no probes.</summary>
        public KMap InitContainer()
        {
            (KMap? configMap, KMap? secret) = EnvironmentObjects(report: false);
            KMap c = Container(configMap, secret, [], probes: false);
            return c;
        }

        public IEnumerable<KMap> Objects()
        {
            Unmapped();
            (KMap? configMap, KMap? secret) = Environment();
            if (configMap is not null) yield return configMap;
            if (secret is not null) yield return secret;
            List<int> ports = Ports();
            if (app.Job is { } job)
            {
                yield return CronJob(job, configMap, secret);
                yield break;
            }
            if (app.Restart == RestartPolicy.Never)
            {
                // A one-shot app: a Job runs it to completion, once.
                yield return new KMap
                {
                    { "apiVersion", "batch/v1" }, { "kind", "Job" }, { "metadata", Metadata(name) },
                    { "spec", new KMap
                    {
                        { "backoffLimit", 0 },
                        { "template", new KMap { { "metadata", new KMap { { "labels", Labels() } } }, { "spec", PodSpec(configMap, secret, [], restartPolicy: "Never") } } },
                    } },
                };
                yield break;
            }
            yield return Workload(configMap, secret, ports);
            if (ports.Count > 0 || app.Kubernetes.Kind == KubernetesKind.StatefulSet || app.Kubernetes.ServiceMonitor && TendRunReason() is not null)
                yield return Service(ports);
            if (app.Kubernetes.MinAvailable is { } min)
            {
                yield return new KMap
                {
                    { "apiVersion", "policy/v1" }, { "kind", "PodDisruptionBudget" }, { "metadata", Metadata(name) },
                    { "spec", new KMap { { "minAvailable", int.TryParse(min, out int n) ? n : min }, { "selector", Selector() } } },
                };
            }
            if (app.Kubernetes.Autoscale is { } auto)
            {
                if (app.Isolation.Resources.CpuMax is null)
                    Note("autoscale", "the HorizontalPodAutoscaler measures CPU against the container's requests.cpu; set resources: { cpu_max: … } so there is one");
                yield return new KMap
                {
                    { "apiVersion", "autoscaling/v2" }, { "kind", "HorizontalPodAutoscaler" }, { "metadata", Metadata(name) },
                    { "spec", new KMap
                    {
                        { "scaleTargetRef", new KMap { { "apiVersion", "apps/v1" }, { "kind", WorkloadKind }, { "name", name } } },
                        { "minReplicas", auto.Min }, { "maxReplicas", auto.Max },
                        { "metrics", new List<object> { new KMap
                        {
                            { "type", "Resource" },
                            { "resource", new KMap { { "name", "cpu" }, { "target", new KMap { { "type", "Utilization" }, { "averageUtilization", auto.CpuPercent } } } } },
                        } } },
                    } },
                };
            }
            if (app.Kubernetes.ServiceMonitor)
            {
                if (ports.Count == 0 && TendRunReason() is null)
                    Note("kubernetes.service_monitor", "no listen: port to scrape; the ServiceMonitor was left out");
                else
                {
                    yield return new KMap
                    {
                        { "apiVersion", "monitoring.coreos.com/v1" }, { "kind", "ServiceMonitor" }, { "metadata", Metadata(name) },
                        { "spec", new KMap
                        {
                            { "selector", Selector() },
                            { "endpoints", new List<object> { new KMap { { "port", PortName(ports.Count > 0 ? ports[0] : TendHealthPort) }, { "path", app.Kubernetes.MetricsPath } } } },
                        } },
                    };
                }
            }
        }

        private string WorkloadKind => app.Kubernetes.Kind == KubernetesKind.StatefulSet ? "StatefulSet" : "Deployment";

        private KMap Selector() => new() { { "matchLabels", new KMap { { NameLabel, name } } } };

        private static string PortName(int port) => "p" + port.ToString(CultureInfo.InvariantCulture);

        private KMap Workload(KMap? configMap, KMap? secret, List<int> ports)
        {
            var spec = new KMap { { "replicas", app.Instances } };
            if (app.Kubernetes.Kind == KubernetesKind.StatefulSet) spec.Add("serviceName", name);
            spec.Add("selector", Selector());
            if (app.Kubernetes.Kind == KubernetesKind.StatefulSet)
                spec.Add("updateStrategy", new KMap { { "type", "RollingUpdate" } });
            else
                spec.Add("strategy", new KMap
                {
                    { "type", "RollingUpdate" },
                    // Tend's reload: a new instance ready before an old one goes, reload_parallelism at a time.
                    { "rollingUpdate", new KMap { { "maxUnavailable", 0 }, { "maxSurge", app.ReloadParallelism } } },
                });
            spec.Add("template", new KMap
            {
                { "metadata", new KMap { { "labels", Labels() } } },
                { "spec", PodSpec(configMap, secret, ports, restartPolicy: null) },
            });
            return new KMap { { "apiVersion", "apps/v1" }, { "kind", WorkloadKind }, { "metadata", Metadata(name) }, { "spec", spec } };
        }

        private KMap CronJob(JobSpec job, KMap? configMap, KMap? secret)
        {
            string[] fields = job.Cron.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            string schedule = job.Cron;
            if (fields.Length == 6)
            {
                schedule = string.Join(' ', fields[1..]);
                if (fields[0] != "0") Note("schedule", $"Kubernetes schedules by the minute: the seconds field \"{fields[0]}\" was dropped (\"{schedule}\")");
            }
            if (job.TimeZone is null) Note("schedule.timezone", "Tend used the daemon's local zone; the CronJob runs in the controller's (UTC unless set): set timezone:");
            if (job.Jitter > TimeSpan.Zero) Note("schedule.jitter", "no equivalent: the CronJob starts on the minute");
            if (job.CatchUp) Note("schedule.catch_up", "Kubernetes starts the latest missed run itself when it is within startingDeadlineSeconds");
            var jobSpec = new KMap { { "backoffLimit", 0 } };
            if (job.Timeout is { } timeout) jobSpec.Add("activeDeadlineSeconds", Seconds(timeout));
            jobSpec.Add("template", new KMap
            {
                { "metadata", new KMap { { "labels", Labels() } } },
                { "spec", PodSpec(configMap, secret, [], restartPolicy: "Never") },
            });
            var spec = new KMap { { "schedule", schedule }, { "timeZone", job.TimeZone } };
            spec.Add("concurrencyPolicy", job.Concurrency switch { JobConcurrency.Allow => "Allow", JobConcurrency.Replace => "Replace", _ => "Forbid" });
            if (job.StartingDeadline is { } deadline) spec.Add("startingDeadlineSeconds", Seconds(deadline));
            spec.Add("successfulJobsHistoryLimit", Math.Min(job.History, 10));
            spec.Add("failedJobsHistoryLimit", Math.Min(job.History, 10));
            spec.Add("jobTemplate", new KMap { { "spec", jobSpec } });
            return new KMap { { "apiVersion", "batch/v1" }, { "kind", "CronJob" }, { "metadata", Metadata(name) }, { "spec", spec } };
        }

        private KMap PodSpec(KMap? configMap, KMap? secret, List<int> ports, string? restartPolicy)
        {
            var pod = new KMap { { "restartPolicy", restartPolicy } };
            if (app.KillTimeout == Timeout.InfiniteTimeSpan)
            {
                Note("kill_timeout", "infinity: Kubernetes needs a number; terminationGracePeriodSeconds is 3600");
                pod.Add("terminationGracePeriodSeconds", 3600);
            }
            // The kill timeout, plus time for the endpoint to leave the Service before the signal.
            else pod.Add("terminationGracePeriodSeconds", Seconds(app.KillTimeout) + 5);
            if (inits.Count > 0)
                pod.Add("initContainers", inits.Select(i => (object)new AppExport(i, DnsName(i.Name), options, notes, configDir, []).InitContainer()).ToList());
            pod.Add("containers", new List<object> { Container(configMap, secret, ports) });
            return pod;
        }

        private KMap Container(KMap? configMap, KMap? secret, List<int> ports, bool probes = true)
        {
            string image = options.Images.TryGetValue(app.Name, out string? i) ? i : $"REPLACE-WITH-IMAGE-OF-{name}";
            if (!options.Images.ContainsKey(app.Name)) Note("image", $"no --image {app.Name}=REF: a placeholder image name was written");
            var c = new KMap { { "name", name }, { "image", image } };
            string? underTend = TendRunReason();
            if (underTend is not null)
            {
                Note("tend run", $"{underTend} needs Tend in the pod: the container runs `tend run {options.ConfigInImage} --only {app.Name}`, and its probes ask Tend's health endpoint (the image needs tend and the tend.yaml)");
                c.Add("command", new List<object> { "tend" });
                c.Add("args", new List<object> { "run", options.ConfigInImage, "--only", app.Name });
            }
            else
            {
                c.Add("command", new List<object> { app.Command });
                if (app.Args.Count > 0) c.Add("args", app.Args.Select(a => (object)a).ToList());
            }
            var env = new List<object>();
            if (underTend is not null) env.Add(new KMap { { "name", "TEND_HEALTH" }, { "value", $"0.0.0.0:{TendHealthPort}" } });
            if (app.ListenMode == ListenMode.Proxy && ports.Count > 0 && underTend is null)
                env.Add(new KMap { { "name", "PORT" }, { "value", ports[0].ToString(CultureInfo.InvariantCulture) } });
            if (env.Count > 0) c.Add("env", env);
            var envFrom = new List<object>();
            if (configMap is not null) envFrom.Add(new KMap { { "configMapRef", new KMap { { "name", ((KMap)configMap["metadata"]!)["name"] } } } });
            if (secret is not null) envFrom.Add(new KMap { { "secretRef", new KMap { { "name", ((KMap)secret["metadata"]!)["name"] } } } });
            if (envFrom.Count > 0) c.Add("envFrom", envFrom);
            var containerPorts = ports.Select(p => (object)new KMap { { "name", PortName(p) }, { "containerPort", p }, { "protocol", "TCP" } }).ToList();
            if (underTend is not null) containerPorts.Add(new KMap { { "name", PortName(TendHealthPort) }, { "containerPort", TendHealthPort }, { "protocol", "TCP" } });
            if (containerPorts.Count > 0) c.Add("ports", containerPorts);
            if (app.Job is null && app.Restart != RestartPolicy.Never && probes)
            {
                if (underTend is not null)
                {
                    c.Add("readinessProbe", HttpGet($"/apps/{app.Name}/health", TendHealthPort, app.Ready?.Probe ?? new ProbeSpec { Kind = ProbeKind.Http, Target = "" }));
                    c.Add("livenessProbe", HttpGet("/live", TendHealthPort, new ProbeSpec { Kind = ProbeKind.Http, Target = "" }));
                }
                else
                {
                    if (app.Ready?.Probe is { } ready) c.Add("readinessProbe", Probe(ready, ports, "ready"));
                    if (app.Live is { } live) c.Add("livenessProbe", Probe(live, ports, "live") is { } probe ? Liveness(probe) : null);
                }
            }
            c.Add("resources", Resources());
            c.Add("securityContext", Security());
            if (app.StopSignal != Signals.SIGTERM && underTend is null)
            {
                string signal = Signals.Name(app.StopSignal).Replace("SIG", "", StringComparison.Ordinal);
                // The kubelet sends SIGTERM when preStop returns: wait for the app to end on its own signal first.
                c.Add("lifecycle", new KMap { { "preStop", new KMap { { "exec", new KMap { { "command", new List<object>
                {
                    "/bin/sh", "-c", $"kill -{signal} 1; while kill -0 1 2>/dev/null; do sleep 0.2; done",
                } } } } } } });
                Note("stop_signal", $"{Signals.Name(app.StopSignal)} is sent by a preStop hook (the image needs /bin/sh); STOPSIGNAL {Signals.Name(app.StopSignal)} in the Dockerfile is the other way");
            }
            return c;
        }

        private static KMap Liveness(KMap probe)
        {
            // Kubernetes requires successThreshold 1 for liveness.
            var fixedProbe = new KMap();
            foreach (var (k, v) in probe) fixedProbe.Add(k, k == "successThreshold" ? 1 : v);
            return fixedProbe;
        }

        private KMap? Probe(ProbeSpec probe, List<int> ports, string role)
        {
            KMap? check = null;
            string target = probe.Target;
            if (ports.Count > 0) target = target.Replace("${PORT}", ports[0].ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal);
            switch (probe.Kind)
            {
                case ProbeKind.Http:
                    if (target.Contains("${", StringComparison.Ordinal) || !Uri.TryCreate(target, UriKind.Absolute, out Uri? uri))
                    {
                        Note(role, $"{probe.Describe()}: a per-instance variable in the URL has no value in a pod; the probe was left out");
                        return null;
                    }
                    var get = new KMap { { "path", uri.PathAndQuery }, { "port", uri.Port } };
                    if (uri.Scheme == Uri.UriSchemeHttps) get.Add("scheme", "HTTPS");
                    if (!uri.IsLoopback) Note(role, $"{probe.Describe()}: the kubelet probes the pod's IP, not {uri.Host}");
                    check = new KMap { { "httpGet", get } };
                    break;
                case ProbeKind.Tcp:
                    int colon = target.LastIndexOf(':');
                    if (colon < 0 || !int.TryParse(target[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out int port))
                    {
                        Note(role, $"{probe.Describe()}: no port a pod has; the probe was left out");
                        return null;
                    }
                    check = new KMap { { "tcpSocket", new KMap { { "port", port } } } };
                    break;
                case ProbeKind.Exec:
                    check = new KMap { { "exec", new KMap { { "command", probe.Command.Select(a => (object)a).ToList() } } } };
                    break;
                default:
                    return null;
            }
            check.Add("initialDelaySeconds", probe.InitialDelay > TimeSpan.Zero ? Seconds(probe.InitialDelay) : null);
            check.Add("periodSeconds", Math.Max(1, Seconds(probe.Interval)));
            check.Add("timeoutSeconds", Math.Max(1, Seconds(probe.Timeout)));
            check.Add("successThreshold", probe.SuccessThreshold);
            check.Add("failureThreshold", probe.FailureThreshold);
            if (role == "ready" && app.Ready is { Timeout: var t } && t != Timeout.InfiniteTimeSpan && t != new ReadySpec().Timeout)
                Note("ready.ready_timeout", $"{Units.FormatDuration(t)}: Kubernetes keeps a pod that never gets ready out of the Service without failing it; a startupProbe would fail it");
            return check;
        }

        private static KMap HttpGet(string path, int port, ProbeSpec timings) => new()
        {
            { "httpGet", new KMap { { "path", path }, { "port", port } } },
            { "periodSeconds", Math.Max(1, Seconds(timings.Interval)) },
            { "timeoutSeconds", Math.Max(1, Seconds(timings.Timeout)) },
            { "failureThreshold", timings.FailureThreshold },
        };

        private KMap? Resources()
        {
            var limits = new KMap();
            long? memory = app.Isolation.Resources.MemoryMax ?? app.MaxMemoryBytes;
            if (memory is long bytes) limits.Add("memory", Quantity(bytes));
            if (app.Isolation.Resources.MemoryMax is null && app.MaxMemoryBytes is not null)
                Note("max_memory", "Tend restarts gracefully above it; Kubernetes kills the container at limits.memory");
            if (app.Isolation.Resources.CpuMax is double cores) limits.Add("cpu", ((long)Math.Round(cores * 1000)).ToString(CultureInfo.InvariantCulture) + "m");
            if (limits.Count == 0) return null;
            var resources = new KMap { { "limits", limits } };
            // Requests equal to limits: what Tend gave the app is what the scheduler reserves.
            var requests = new KMap();
            foreach (var (k, v) in limits) requests.Add(k, v);
            resources.Add("requests", requests);
            return resources;
        }

        private static string Quantity(long bytes) =>
            bytes % (1L << 30) == 0 ? (bytes >> 30).ToString(CultureInfo.InvariantCulture) + "Gi"
            : bytes % (1L << 20) == 0 ? (bytes >> 20).ToString(CultureInfo.InvariantCulture) + "Mi"
            : bytes % 1024 == 0 ? (bytes >> 10).ToString(CultureInfo.InvariantCulture) + "Ki"
            : bytes.ToString(CultureInfo.InvariantCulture);

        private KMap? Security()
        {
            IsolationSpec iso = app.Isolation;
            var context = new KMap();
            if (iso.Uid is uint uid) context.Add("runAsUser", (long)uid);
            if (iso.Gid is uint gid) context.Add("runAsGroup", (long)gid);
            if (iso.Uid is not null) context.Add("runAsNonRoot", iso.Uid != 0);
            if (iso.NoNewPrivileges) context.Add("allowPrivilegeEscalation", false);
            if (iso.Capabilities is { } caps)
            {
                var add = caps.Select(c => (object)(c.StartsWith("CAP_", StringComparison.OrdinalIgnoreCase) ? c[4..] : c).ToUpperInvariant()).ToList();
                context.Add("capabilities", new KMap { { "drop", new List<object> { "ALL" } }, { "add", add.Count > 0 ? add : null } });
            }
            if (iso.UserName is { } user && iso.Uid is null) Note("user", $"\"{user}\" is a name on this machine; the pod needs a numeric runAsUser");
            if (iso.Limits.Count > 0) Note("limits", "rlimits have no pod field: the container runtime's defaults apply (set them in the image's entrypoint)");
            if (iso.Umask is not null) Note("umask", "no pod field: set it in the image's entrypoint");
            return context.Count == 0 ? null : context;
        }

        /// <summary>The app's own variables: secret-looking names to a Secret, the rest to a ConfigMap, both referenced by envFrom.</summary>
        private (KMap? ConfigMap, KMap? Secret)? _environment;

        private (KMap? ConfigMap, KMap? Secret) Environment() => EnvironmentObjects();

        private (KMap? ConfigMap, KMap? Secret) EnvironmentObjects(bool report = true)
        {
            if (_environment is { } known) return known;
            _environment = Build(report);
            return _environment.Value;
        }

        private (KMap? ConfigMap, KMap? Secret) Build(bool report)
        {
            var plain = new KMap();
            var secret = new KMap();
            foreach (var (key, value) in app.Env.OrderBy(e => e.Key, StringComparer.Ordinal))
            {
                if (options.BaseEnvironment.TryGetValue(key, out string? inherited) && inherited == value) continue;
                if (SecretMask.IsSecretName(key) || SecretMask.MaskUrlPassword(value) != value) secret.Add(key, value);
                else plain.Add(key, value);
            }
            KMap? configMap = plain.Count == 0 ? null : new KMap
            {
                { "apiVersion", "v1" }, { "kind", "ConfigMap" }, { "metadata", Metadata(name + "-env") }, { "data", plain },
            };
            KMap? secretObject = null;
            if (secret.Count > 0)
            {
                if (report) Note("env", $"{string.Join(", ", secret.Select(s => s.Key))} moved to the Secret {name}-secrets (its values are in the file in clear text: keep it out of version control, or replace it with your secret store's)");
                secretObject = new KMap
                {
                    { "apiVersion", "v1" }, { "kind", "Secret" }, { "metadata", Metadata(name + "-secrets") }, { "type", "Opaque" }, { "stringData", secret },
                };
            }
            return (configMap, secretObject);
        }

        private List<int> Ports()
        {
            foreach (string socket in app.Listen.Where(a => a.StartsWith('/')))
                Note("listen", $"{socket} is a unix socket: no Service for it");
            return ListenPorts(app);
        }

        private KMap Service(List<int> ports)
        {
            var spec = new KMap();
            if (app.Kubernetes.Kind == KubernetesKind.StatefulSet) spec.Add("clusterIP", "None");
            spec.Add("selector", new KMap { { NameLabel, name } });
            var servicePorts = ports.Select(p => (object)new KMap { { "name", PortName(p) }, { "port", p }, { "targetPort", p }, { "protocol", "TCP" } }).ToList();
            if (TendRunReason() is not null && app.Kubernetes.ServiceMonitor)
                servicePorts.Add(new KMap { { "name", PortName(TendHealthPort) }, { "port", TendHealthPort }, { "targetPort", TendHealthPort }, { "protocol", "TCP" } });
            // A headless Service (a StatefulSet's) may have no ports; any other has one at least.
            if (servicePorts.Count > 0) spec.Add("ports", servicePorts);
            return new KMap { { "apiVersion", "v1" }, { "kind", "Service" }, { "metadata", Metadata(name) }, { "spec", spec } };
        }

        private void Unmapped()
        {
            if (app.Cwd != configDir) Note("cwd", $"{app.Cwd} is a path on this machine: the container starts in its image's WORKDIR");
            if (app.Job is null && app.Restart == RestartPolicy.OnFailure)
                Note("restart", "on-failure: a Deployment's pods are always restarted (restartPolicy: Always)");
            if (app.IncrementVar is { } inc)
                Note("increment_var", $"{inc.Name}: pods of a {WorkloadKind} have no per-instance numbers to count from{(app.Kubernetes.Kind == KubernetesKind.StatefulSet ? " (a StatefulSet's ordinal is in the pod's hostname)" : "")}");
            foreach (Dependency d in app.DependsOn.Where(d => inits.All(i => i.Name != d.App)))
                Note("depends_on", $"{d.App} ({d.Condition.ToString().ToLowerInvariant()}): Kubernetes starts pods in no order; the app must wait (or retry) itself, or use an init container");
            if (app.Watch is not null) Note("watch", "a development feature: a new image and a rollout replace it");
            if (app.RestartSchedule is not null) Note("restart_schedule", "no equivalent: a CronJob running `kubectl rollout restart` would do it");
            if (app.Breaker is not null) Note("breaker", "the kubelet's CrashLoopBackOff is the equivalent");
            if (app.Logs.OutFile is not null || app.Logs.ErrFile is not null) Note("log", "containers log to stdout and stderr; the files are not written");
            if (app.Listen.Count > 0 && app.ListenMode == ListenMode.Proxy) Note("listen_mode", "proxy: the Service balances the pods; each pod's app listens on the port itself ($PORT)");
        }
    }

    /// <summary>A supervisor whose strategy ties its apps together: one pod running the subtree under `tend run`.</summary>
    private sealed class SubtreeExport(SupervisorSpec supervisor, string name, List<AppSpec> members, KubernetesExportOptions options, List<ExportNote> notes)
    {
        private KMap Labels() => new() { { NameLabel, name }, { "app.kubernetes.io/managed-by", "tend" } };

        private KMap Metadata() => new() { { "name", name }, { "namespace", options.Kustomize ? null : options.Namespace }, { "labels", Labels() } };

        public IEnumerable<KMap> Objects()
        {
            var ports = members.SelectMany(ListenPorts).Distinct().Order().ToList();
            string image = options.Images.TryGetValue(supervisor.Name, out string? i) ? i : $"REPLACE-WITH-IMAGE-OF-{name}";
            if (!options.Images.ContainsKey(supervisor.Name))
                notes.Add(new ExportNote(supervisor.Name, "image", $"no --image {supervisor.Name}=REF: a placeholder image name was written (the image needs tend, the tend.yaml and every app of the subtree)"));
            var allPorts = ports.Append(TendHealthPort).Select(p => (object)new KMap { { "name", "p" + p.ToString(CultureInfo.InvariantCulture) }, { "containerPort", p }, { "protocol", "TCP" } }).ToList();
            var container = new KMap
            {
                { "name", name }, { "image", image },
                { "command", new List<object> { "tend" } },
                { "args", new List<object> { "run", options.ConfigInImage, "--only", supervisor.Name } },
                { "env", new List<object> { new KMap { { "name", "TEND_HEALTH" }, { "value", $"0.0.0.0:{TendHealthPort}" } } } },
                { "ports", allPorts },
                { "readinessProbe", new KMap { { "httpGet", new KMap { { "path", "/ready" }, { "port", TendHealthPort } } }, { "periodSeconds", 5 }, { "failureThreshold", 3 } } },
                { "livenessProbe", new KMap { { "httpGet", new KMap { { "path", "/live" }, { "port", TendHealthPort } } }, { "periodSeconds", 10 }, { "failureThreshold", 3 } } },
            };
            // Tend stops the subtree's apps one after another: the pod gets all their kill timeouts.
            int grace = members.Sum(a => a.KillTimeout == Timeout.InfiniteTimeSpan ? 3600 : Seconds(a.KillTimeout)) + 5;
            yield return new KMap
            {
                { "apiVersion", "apps/v1" }, { "kind", "Deployment" }, { "metadata", Metadata() },
                { "spec", new KMap
                {
                    { "replicas", 1 },
                    { "selector", new KMap { { "matchLabels", new KMap { { NameLabel, name } } } } },
                    { "strategy", new KMap { { "type", "Recreate" } } },
                    { "template", new KMap
                    {
                        { "metadata", new KMap { { "labels", Labels() } } },
                        { "spec", new KMap { { "terminationGracePeriodSeconds", grace }, { "containers", new List<object> { container } } } },
                    } },
                } },
            };
            if (ports.Count > 0)
            {
                yield return new KMap
                {
                    { "apiVersion", "v1" }, { "kind", "Service" }, { "metadata", Metadata() },
                    { "spec", new KMap
                    {
                        { "selector", new KMap { { NameLabel, name } } },
                        { "ports", ports.Select(p => (object)new KMap { { "name", "p" + p.ToString(CultureInfo.InvariantCulture) }, { "port", p }, { "targetPort", p }, { "protocol", "TCP" } }).ToList() },
                    } },
                };
            }
        }
    }

    private static int Seconds(TimeSpan t) => (int)Math.Ceiling(t.TotalSeconds);
}
