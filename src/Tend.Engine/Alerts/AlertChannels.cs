using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Tend.Config;
using Tend.Hashing;
using Tend.Health;

namespace Tend.Alerts;

/// <summary>
/// Turns a notification into what each kind of channel expects and sends it (docs/alerts.md#channels).
/// A delivery either succeeds or throws <see cref="DeliveryException"/> with a reason the outbox records
/// and retries on. Payloads are written field by field (no reflection, so they survive trimming), from
/// the alert's own fields: a channel's secret signs the body and is never part of it.
/// </summary>
public sealed class AlertChannels(HttpClient http, TimeProvider time, IReadOnlyDictionary<string, string> environment)
{
    public const string SignatureHeader = "X-Tend-Signature";
    public const string DeliveryHeader = "X-Tend-Delivery";

    public async Task DeliverAsync(ChannelSpec channel, AlertNotification n, CancellationToken ct)
    {
        switch (channel.Kind)
        {
            case ChannelKind.Webhook:
                await PostAsync(channel, channel.Url!, WebhookBody(channel.Name, n), n, ct).ConfigureAwait(false);
                break;
            case ChannelKind.Slack:
                await PostAsync(channel, channel.Url!, SlackBody(n), n, ct).ConfigureAwait(false);
                break;
            case ChannelKind.Alertmanager:
                await PostAsync(channel, channel.Url!.TrimEnd('/') + "/api/v2/alerts", AlertmanagerBody(n), n, ct).ConfigureAwait(false);
                break;
            case ChannelKind.Command:
                await RunAsync(channel, n, ct).ConfigureAwait(false);
                break;
        }
    }

    private async Task PostAsync(ChannelSpec channel, string url, byte[] body, AlertNotification n, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        request.Headers.TryAddWithoutValidation(DeliveryHeader, n.Id);
        if (channel.Secret is string secret)
            request.Headers.TryAddWithoutValidation(SignatureHeader, Sign(secret, body));
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(channel.Timeout);
        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            throw new DeliveryException($"no answer from {Redacted(url)} within {channel.Timeout.TotalSeconds:0.#}s");
        }
        catch (HttpRequestException e)
        {
            throw new DeliveryException($"{Redacted(url)}: {e.Message}");
        }
        using (response)
        {
            if (!response.IsSuccessStatusCode)
                throw new DeliveryException($"{Redacted(url)} answered {(int)response.StatusCode} {response.ReasonPhrase}");
        }
    }

    private async Task RunAsync(ChannelSpec channel, AlertNotification n, CancellationToken ct)
    {
        var env = new Dictionary<string, string>(environment, StringComparer.Ordinal);
        AlertSnapshot a = n.Alert;
        env["TEND_ALERT_ID"] = n.Id;
        env["TEND_ALERT_STATUS"] = Status(a);
        env["TEND_ALERT_NAME"] = a.Rule;
        env["TEND_ALERT_APP"] = a.App;
        env["TEND_ALERT_INSTANCE"] = a.Instance?.ToString(CultureInfo.InvariantCulture) ?? "";
        env["TEND_ALERT_SEVERITY"] = a.Severity;
        env["TEND_ALERT_SUMMARY"] = a.Summary;
        env["TEND_ALERT_DESCRIPTION"] = a.Description;
        env["TEND_ALERT_FINGERPRINT"] = a.Fingerprint;
        env["TEND_ALERT_STARTS_AT"] = Time(a.FiredAt ?? a.Since);
        env["TEND_ALERT_ENDS_AT"] = a.ResolvedAt is { } r ? Time(r) : "";
        env["TEND_ALERT_VALUE"] = a.Value?.ToString("G6", CultureInfo.InvariantCulture) ?? "";
        env["TEND_ALERT_REPEAT"] = n.Repeat ? "true" : "false";
        env["TEND_ALERT_JSON"] = Encoding.UTF8.GetString(WebhookBody(channel.Name, n));
        string cwd = env.TryGetValue("HOME", out string? home) && Directory.Exists(home) ? home : "/";
        await using var probe = new ExecProbe([.. channel.Command], new ProbeContext(cwd, env) { Time = time }, channel.Timeout);
        ProbeResult result = await probe.CheckAsync(ct).ConfigureAwait(false);
        if (!result.Success) throw new DeliveryException($"{channel.Command[0]}: {result.Detail}");
    }

    /// <summary>"sha256=" and the hex HMAC-SHA256 of the body: what a receiver recomputes with the shared secret.</summary>
    public static string Sign(string secret, byte[] body) =>
        "sha256=" + Convert.ToHexStringLower(Sha256.Hmac(Encoding.UTF8.GetBytes(secret), body));

    /// <summary>Alertmanager's webhook payload (version 4), one alert per notification.</summary>
    public static byte[] WebhookBody(string receiver, AlertNotification n)
    {
        AlertSnapshot a = n.Alert;
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("version", "4");
            w.WriteString("groupKey", $"{{}}:{{alertname=\"{a.Rule}\", app=\"{a.App}\"}}");
            w.WriteNumber("truncatedAlerts", 0);
            w.WriteString("status", Status(a));
            w.WriteString("receiver", receiver);
            w.WriteStartObject("groupLabels");
            w.WriteString("alertname", a.Rule);
            w.WriteString("app", a.App);
            w.WriteEndObject();
            w.WritePropertyName("commonLabels");
            Labels(w, a);
            w.WritePropertyName("commonAnnotations");
            Annotations(w, a);
            w.WriteString("externalURL", "");
            w.WriteString("id", n.Id);
            w.WriteBoolean("repeat", n.Repeat);
            w.WriteStartArray("alerts");
            AlertObject(w, a, withStatus: true);
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return buffer.ToArray();
    }

    /// <summary>Slack's incoming webhook: one line of text (Mattermost and Rocket.Chat read the same).</summary>
    public static byte[] SlackBody(AlertNotification n)
    {
        AlertSnapshot a = n.Alert;
        string mark = a.State == AlertState.Resolved ? "RESOLVED" : n.Repeat ? "FIRING (still)" : "FIRING";
        string text = $"[{mark}] {a.Rule} on {a.Label} ({a.Severity}): {a.Summary}" +
            (a.State == AlertState.Resolved ? $" — {a.ResolvedBecause}" : $"\n{a.Description}");
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("text", text);
            w.WriteEndObject();
        }
        return buffer.ToArray();
    }

    /// <summary>Alertmanager's POST /api/v2/alerts: a list of alerts, endsAt set once resolved.</summary>
    public static byte[] AlertmanagerBody(AlertNotification n)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartArray();
            AlertObject(w, n.Alert, withStatus: false);
            w.WriteEndArray();
        }
        return buffer.ToArray();
    }

    private static void AlertObject(Utf8JsonWriter w, AlertSnapshot a, bool withStatus)
    {
        w.WriteStartObject();
        if (withStatus) w.WriteString("status", Status(a));
        w.WritePropertyName("labels");
        Labels(w, a);
        w.WritePropertyName("annotations");
        Annotations(w, a);
        w.WriteString("startsAt", Time(a.FiredAt ?? a.Since));
        if (a.ResolvedAt is { } ended) w.WriteString("endsAt", Time(ended));
        else if (withStatus) w.WriteString("endsAt", "0001-01-01T00:00:00Z");
        w.WriteString("generatorURL", "");
        if (withStatus) w.WriteString("fingerprint", a.Fingerprint);
        w.WriteEndObject();
    }

    private static void Labels(Utf8JsonWriter w, AlertSnapshot a)
    {
        w.WriteStartObject();
        w.WriteString("alertname", a.Rule);
        w.WriteString("app", a.App);
        if (a.Instance is int i) w.WriteString("instance", i.ToString(CultureInfo.InvariantCulture));
        w.WriteString("severity", a.Severity);
        w.WriteString("source", "tend");
        w.WriteEndObject();
    }

    private static void Annotations(Utf8JsonWriter w, AlertSnapshot a)
    {
        w.WriteStartObject();
        w.WriteString("summary", a.Summary);
        w.WriteString("description", a.Description);
        if (a.Value is double v) w.WriteString("value", v.ToString("G6", CultureInfo.InvariantCulture));
        if (a.ResolvedBecause is string why) w.WriteString("resolved_because", why);
        w.WriteEndObject();
    }

    private static string Status(AlertSnapshot a) => a.State == AlertState.Resolved ? "resolved" : "firing";

    private static string Time(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    /// <summary>The URL without its query or user info, for errors (Slack's token lives in the path, so only scheme, host and port).</summary>
    internal static string Redacted(string url) =>
        Uri.TryCreate(url, UriKind.Absolute, out Uri? uri) ? $"{uri.Scheme}://{uri.Authority}{(uri.AbsolutePath.Length > 1 ? "/…" : "/")}" : "the URL";
}

/// <summary>A delivery failed; <see cref="Exception.Message"/> says why, for the outbox's record.</summary>
public sealed class DeliveryException(string message) : Exception(message);
