using System.Globalization;

namespace Tend.Daemon.Otlp;

/// <summary>
/// Whether to push metrics over OTLP, read from the standard OpenTelemetry variables of the
/// daemon's environment. No OpenTelemetry type appears here: this runs on every start, and the SDK
/// must not be loaded when export is off.
///
/// <para>The SDK reads the variables itself (<see cref="OtlpExport"/> hands it the environment), but
/// it ignores a value it cannot parse and carries on with its default — an unparsable endpoint
/// quietly becomes <c>localhost:4317</c> — reporting that only on its own EventSource. So the values
/// it would misread are checked here first, and a bad one turns export off with a line in
/// daemon.log that names the variable.</para>
///
/// <para><i>Decision:</i> bad OTLP configuration does not stop the daemon. Export is optional;
/// supervision is not, and a typo in a telemetry variable must not leave every app down after a
/// reboot.</para>
/// </summary>
internal sealed record OtlpSettings(string EndpointVariable, string Endpoint, string Protocol, bool DefaultServiceName)
{
    public const string BaseEndpointVariable = "OTEL_EXPORTER_OTLP_ENDPOINT";
    public const string MetricsEndpointVariable = "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT";

    /// <summary>
    /// The settings when export is configured and valid; null when it is off — not configured
    /// (<paramref name="error"/> null) or misconfigured (<paramref name="error"/> says which variable
    /// and why).
    /// </summary>
    public static OtlpSettings? Read(Func<string, string?> env, out OtlpConfigError? error)
    {
        error = null;
        string? Get(string name) => env(name) is { Length: > 0 } value ? value.Trim() : null;

        (string variable, string endpoint) = Get(MetricsEndpointVariable) is string m ? (MetricsEndpointVariable, m)
            : Get(BaseEndpointVariable) is string e ? (BaseEndpointVariable, e)
            : (null!, null!);
        if (endpoint is null) return null;
        if (string.Equals(Get("OTEL_SDK_DISABLED"), "true", StringComparison.OrdinalIgnoreCase)) return null;

        if (!Uri.TryCreate(endpoint, UriKind.Absolute, out Uri? uri) || uri.Scheme is not ("http" or "https") || uri.Host.Length == 0)
        {
            error = new OtlpConfigError(variable, endpoint, "not an absolute http:// or https:// URL");
            return null;
        }

        string protocol = "grpc";
        foreach (string name in (ReadOnlySpan<string>)["OTEL_EXPORTER_OTLP_PROTOCOL", "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL"])
        {
            if (Get(name) is not string value) continue;
            if (value is not ("grpc" or "http/protobuf"))
            {
                error = new OtlpConfigError(name, value, "not grpc or http/protobuf (the .NET exporter has no http/json)");
                return null;
            }
            protocol = value; // the metrics-specific one is read last and wins
        }

        foreach (string name in (ReadOnlySpan<string>)["OTEL_EXPORTER_OTLP_HEADERS", "OTEL_EXPORTER_OTLP_METRICS_HEADERS"])
        {
            if (Get(name) is string value && HeadersProblem(value) is string problem)
            {
                // The value may carry a credential: name the variable, not its content.
                error = new OtlpConfigError(name, null, problem);
                return null;
            }
        }

        foreach (string name in (ReadOnlySpan<string>)["OTEL_METRIC_EXPORT_INTERVAL", "OTEL_METRIC_EXPORT_TIMEOUT", "OTEL_EXPORTER_OTLP_TIMEOUT", "OTEL_EXPORTER_OTLP_METRICS_TIMEOUT"])
        {
            if (Get(name) is string value && (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int ms) || ms <= 0))
            {
                error = new OtlpConfigError(name, value, "not a positive whole number of milliseconds");
                return null;
            }
        }

        if (Get("OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE") is string temporality
            && !(temporality.Equals("cumulative", StringComparison.OrdinalIgnoreCase) || temporality.Equals("delta", StringComparison.OrdinalIgnoreCase) || temporality.Equals("lowmemory", StringComparison.OrdinalIgnoreCase)))
        {
            error = new OtlpConfigError("OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE", temporality, "not cumulative, delta or lowmemory");
            return null;
        }

        bool named = Get("OTEL_SERVICE_NAME") is not null
            || (Get("OTEL_RESOURCE_ATTRIBUTES") is string attributes && attributes.Split(',').Any(a => a.Split('=', 2)[0].Trim() == "service.name"));
        return new OtlpSettings(variable, endpoint, protocol, DefaultServiceName: !named);
    }

    // W3C baggage-like, as the specification says: comma-separated key=value, values URL-encoded.
    private static string? HeadersProblem(string value)
    {
        foreach (string pair in value.Split(','))
        {
            if (pair.Trim().Length == 0) continue;
            int eq = pair.IndexOf('=');
            if (eq <= 0 || pair[..eq].Trim().Length == 0) return "not a comma-separated list of key=value pairs";
        }
        return null;
    }
}

/// <summary>Why OTLP export is off: the variable at fault, its value (null when it may hold a secret) and the problem.</summary>
internal sealed record OtlpConfigError(string Variable, string? Value, string Problem)
{
    /// <summary>The value (when it may be shown) and the problem, for after the variable's name.</summary>
    public string Detail => Value is null ? Problem : $"\"{Value}\" is {Problem}";

    public override string ToString() => $"{Variable}: {Detail}";
}
