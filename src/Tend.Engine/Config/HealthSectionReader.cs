using System.Globalization;
using System.Text.RegularExpressions;
using Tend.Health;
using Tend.Security;

namespace Tend.Config;

// ready:, live: and watchdog: of an app (issue 5). A probe is written as one kind key (http, tcp,
// exec, log) next to Kubernetes' settings; readiness may instead be `notify: true`, the systemd
// protocol, where the app says READY=1 itself and probe settings would mean nothing.
/// <summary>ready: and live: of an app: the probe kinds, their settings and thresholds, and the checks that need the whole spec.</summary>
internal static class HealthSectionReader
{
    internal static readonly string[] s_probeKinds = ["http", "tcp", "exec", "log"];
    internal static readonly string[] s_probeSettings = ["initial_delay", "interval", "timeout", "failure_threshold", "success_threshold"];
    internal static readonly string[] s_readyKeys = ["notify", "message", .. s_probeKinds, .. s_probeSettings, "ready_timeout"];
    internal static readonly string[] s_liveKeys = [.. s_probeKinds, .. s_probeSettings];

    internal static readonly Dictionary<string, string> s_liveHints = new(StringComparer.Ordinal)
    {
        ["notify"] = "for a liveness signal over NOTIFY_SOCKET, set watchdog: (a period) on the app",
        ["ready_timeout"] = "ready_timeout belongs under ready:",
        ["period"] = "Tend calls it interval",
        ["period_seconds"] = "Tend calls it interval, written as a duration such as 10s",
    };

    internal static readonly Dictionary<string, string> s_readyHints = new(StringComparer.Ordinal)
    {
        ["period"] = "Tend calls it interval",
        ["period_seconds"] = "Tend calls it interval, written as a duration such as 10s",
        ["listen_timeout"] = "Tend calls it ready_timeout",
    };

    internal static ReadySpec? ReadReady(NodeReader reader, YNode value, string field)
    {
        if (!reader.TryMapping(value, field, "a mapping: notify: true, message: ready, or one of http, tcp, exec, log with probe settings", out YMapping map))
            return null;
        int errorsBefore = reader.Errors.Count;
        var ready = new ReadySpec();
        YNode? notifyKey = null, messageKey = null;
        var probe = new ProbeDraft();
        foreach (var (key, keyNode, node) in reader.Entries(map, field, s_readyKeys, s_readyHints))
        {
            string f = field + "." + key;
            switch (key)
            {
                case "notify":
                    if (reader.TryBool(node, f, out bool notify) && notify) notifyKey = keyNode;
                    break;
                case "message":
                    messageKey = keyNode;
                    if (reader.TryString(node, f, out string message))
                    {
                        if (message.Length == 0) reader.Error(node, f, "the message the app sends when it is ready, as process.send('ready'); not empty");
                        else ready = ready with { Message = message };
                    }
                    break;
                case "ready_timeout":
                    if (IsInfinity(node)) ready = ready with { Timeout = Timeout.InfiniteTimeSpan };
                    else if (reader.TryDuration(node, f, out TimeSpan timeout))
                    {
                        if (timeout <= TimeSpan.Zero) reader.Error(node, f, "must be more than 0 (or infinity to wait for ever)");
                        else ready = ready with { Timeout = timeout };
                    }
                    break;
                default:
                    probe.Read(reader, key, keyNode, node, f);
                    break;
            }
        }
        if (messageKey is not null)
        {
            if (notifyKey is not null)
                reader.Error(messageKey, field + ".message", "set notify: true or message:, not both");
            else if (probe.KindKey is not null)
                reader.Error(probe.KindKey, field + "." + probe.KindName, "set message: or a probe, not both");
            else if (probe.FirstSettingKey is { } setting)
                reader.Error(setting.Node, field + "." + setting.Name, $"{setting.Name} is a probe setting; with message: the app says when it is ready itself");
        }
        else if (notifyKey is not null)
        {
            if (probe.KindKey is not null)
                reader.Error(probe.KindKey, field + "." + probe.KindName, "set notify: true or a probe, not both");
            else if (probe.FirstSettingKey is { } setting)
                reader.Error(setting.Node, field + "." + setting.Name, $"{setting.Name} is a probe setting; with notify: true the app says READY=1 itself");
            ready = ready with { Notify = true };
        }
        else if (probe.Build(reader, map, field) is { } spec)
        {
            ready = ready with { Probe = spec };
        }
        return reader.Errors.Count > errorsBefore ? null : ready;
    }

    internal static ProbeSpec? ReadLive(NodeReader reader, YNode value, string field)
    {
        if (!reader.TryMapping(value, field, "a mapping: one of http, tcp, exec, log with probe settings", out YMapping map))
            return null;
        int errorsBefore = reader.Errors.Count;
        var probe = new ProbeDraft();
        foreach (var (key, keyNode, node) in reader.Entries(map, field, s_liveKeys, s_liveHints))
        {
            probe.Read(reader, key, keyNode, node, field + "." + key);
        }
        ProbeSpec? spec = probe.Build(reader, map, field);
        return reader.Errors.Count > errorsBefore ? null : spec;
    }

    internal static bool IsInfinity(YNode node) =>
        node is YScalar { Value: var text } && string.Equals(text, "infinity", StringComparison.OrdinalIgnoreCase);

    /// <summary>The keys of one probe as they are read, checked together once the mapping is done.</summary>
    internal sealed class ProbeDraft
    {
        private ProbeSpec _spec = new() { Kind = ProbeKind.Http, Target = "" };

        public YNode? KindKey { get; private set; }
        public string KindName { get; private set; } = "";
        public (string Name, YNode Node)? FirstSettingKey { get; private set; }

        public void Read(NodeReader reader, string key, YNode keyNode, YNode node, string field)
        {
            if (s_probeKinds.Contains(key))
            {
                if (KindKey is not null)
                {
                    reader.Error(keyNode, field, $"a probe checks one thing; {KindName} is already set at line {KindKey.Start.Line}");
                    return;
                }
                KindKey = keyNode;
                KindName = key;
                ReadTarget(reader, key, node, field);
                return;
            }
            FirstSettingKey ??= (key, keyNode);
            switch (key)
            {
                case "initial_delay":
                    if (reader.TryDuration(node, field, out TimeSpan delay)) _spec = _spec with { InitialDelay = delay };
                    break;
                case "interval":
                    if (ReadPositive(reader, node, field) is TimeSpan interval) _spec = _spec with { Interval = interval };
                    break;
                case "timeout":
                    if (ReadPositive(reader, node, field) is TimeSpan timeout) _spec = _spec with { Timeout = timeout };
                    break;
                case "failure_threshold":
                    if (reader.TryInt(node, field, 1, 1000, out int failures)) _spec = _spec with { FailureThreshold = failures };
                    break;
                case "success_threshold":
                    if (reader.TryInt(node, field, 1, 1000, out int successes)) _spec = _spec with { SuccessThreshold = successes };
                    break;
            }
        }

        public ProbeSpec? Build(NodeReader reader, YMapping map, string field)
        {
            if (KindKey is null)
            {
                reader.Error(map, field, "no check; set one of http (a URL), tcp (host:port), exec (a command) or log (a pattern)");
                return null;
            }
            return _spec;
        }

        private static TimeSpan? ReadPositive(NodeReader reader, YNode node, string field)
        {
            if (!reader.TryDuration(node, field, out TimeSpan value)) return null;
            if (value > TimeSpan.Zero) return value;
            reader.Error(node, field, "must be more than 0");
            return null;
        }

        private void ReadTarget(NodeReader reader, string kind, YNode node, string field)
        {
            if (kind == "exec" && node is YSequence)
            {
                List<string>? argv = AppFieldReader.ReadArgs(reader, node, field);
                if (argv is { Count: 0 }) reader.Error(node, field, "empty command");
                else if (argv is not null)
                    _spec = _spec with { Kind = ProbeKind.Exec, Target = string.Join(' ', argv), Command = new EquatableArray<string>(argv) };
                return;
            }
            if (!reader.TryString(node, field, out string text)) return;
            if (string.IsNullOrWhiteSpace(text))
            {
                reader.Error(node, field, $"empty {kind} check");
                return;
            }
            switch (kind)
            {
                case "http":
                    if (!Uri.TryCreate(ProbeTarget.ForValidation(text), UriKind.Absolute, out Uri? uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
                        reader.Error(node, field, $"\"{SecretMask.MaskUrlPassword(text)}\" is not an http:// or https:// URL (a password holding / ? # or @ must be percent-encoded: %2F %3F %23 %40)");
                    else
                        _spec = _spec with { Kind = ProbeKind.Http, Target = text };
                    break;
                case "tcp":
                    if (ParseHostPort(ProbeTarget.ForValidation(text)) is null)
                        reader.Error(node, field, $"\"{text}\" is not host:port (such as 127.0.0.1:5432 or [::1]:80)");
                    else
                        _spec = _spec with { Kind = ProbeKind.Tcp, Target = text };
                    break;
                case "exec":
                    if (!ShellWords.TrySplit(text, out var words, out string? error)) reader.Error(node, field, error!);
                    else if (words.Count == 0) reader.Error(node, field, "empty command");
                    else _spec = _spec with { Kind = ProbeKind.Exec, Target = text, Command = new EquatableArray<string>(words.ConvertAll(w => w.Text)) };
                    break;
                case "log":
                    try
                    {
                        _ = new Regex(text, RegexOptions.CultureInvariant);
                        _spec = _spec with { Kind = ProbeKind.Log, Target = text };
                    }
                    catch (ArgumentException ex)
                    {
                        reader.Error(node, field, $"not a valid regular expression: {ex.Message}");
                    }
                    break;
            }
        }
    }

    /// <summary>
    /// A readiness probe aimed at the app's own listen: address asks the daemon's shared socket, which
    /// any instance answers (an old one, during a reload): it cannot tell whether *this* instance is
    /// ready, so a reload to a broken build would pass. Rejected, with what to use instead.
    /// </summary>
    internal static void CheckReadyNotOnSharedListen(NodeReader reader, AppSpec spec, YNode? readyNode, string field)
    {
        if (spec.Ready?.Probe is not { Kind: ProbeKind.Http or ProbeKind.Tcp } probe || spec.Listen.Count == 0 || readyNode is null) return;
        if (ProbeTarget.HasVariables(probe.Target)) return; // per instance by construction
        (string Host, int Port)? target = probe.Kind == ProbeKind.Tcp
            ? ParseHostPort(probe.Target)
            : Uri.TryCreate(probe.Target, UriKind.Absolute, out Uri? uri) ? (uri.IdnHost.Trim('[', ']'), uri.Port) : null;
        if (target is not { } t) return;
        foreach (string listen in spec.Listen)
        {
            if (!ListenAddress.TryParse(listen, out var address, out _) || address.Kind != ListenKind.Tcp) continue;
            if (address.Port != t.Port || address.Port == 0 || !SameMachineAddress(address.Host, t.Host)) continue;
            string kind = probe.Kind == ProbeKind.Http ? "http" : "tcp";
            YNode at = readyNode is YMapping map
                ? map.Entries.FirstOrDefault(e => e.Key is YScalar { Value: var k } && k == kind).Value ?? readyNode
                : readyNode;
            string alternative = spec.ListenMode == ListenMode.Proxy
                ? $"in proxy mode each instance listens on its own PORT: {kind}: \"{(kind == "http" ? "http://127.0.0.1:${PORT}/..." : "127.0.0.1:${PORT}")}\""
                : "a per-instance address such as an admin port from increment_var (http: \"http://127.0.0.1:${ADMIN_PORT}/ready\")";
            reader.Error(at, field + ".ready." + kind,
                $"\"{probe.Target}\" is this app's own listen: address ({listen}), which the daemon holds and every instance shares: " +
                "any instance answers it (an old one during a reload), so it cannot tell whether this instance is ready. " +
                $"Use notify: true, a log: probe, or {alternative} (docs/health.md#readiness-and-shared-ports)");
            return;
        }
    }

    /// <summary>Whether a probe's host reaches a socket bound to <paramref name="bound"/> (null: every address) on this machine.</summary>
    internal static bool SameMachineAddress(System.Net.IPAddress? bound, string host)
    {
        if (bound is null || bound.Equals(System.Net.IPAddress.Any) || bound.Equals(System.Net.IPAddress.IPv6Any)) return true;
        if (host.Equals("localhost", StringComparison.OrdinalIgnoreCase)) return System.Net.IPAddress.IsLoopback(bound);
        return System.Net.IPAddress.TryParse(host, out var ip) && ip.Equals(bound);
    }

    /// <summary>"host:port" or "[v6]:port" with a port from 1 to 65535; null if it is neither.</summary>
    internal static (string Host, int Port)? ParseHostPort(string text)
    {
        int colon = text.LastIndexOf(':');
        if (colon <= 0 || colon == text.Length - 1) return null;
        string host = text[..colon];
        if (host.StartsWith('[') && host.EndsWith(']')) host = host[1..^1];
        else if (host.Contains(':')) return null;
        if (host.Length == 0) return null;
        if (!int.TryParse(text.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out int port) || port is < 1 or > 65535)
            return null;
        return (host, port);
    }
}
