using System.Runtime.CompilerServices;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using Tend.Metrics;

namespace Tend.Daemon.Otlp;

/// <summary>
/// The OpenTelemetry SDK, listening to the <see cref="MeterBridge"/>'s meter and pushing it over
/// OTLP. The only file that names an OpenTelemetry type: the runtime loads an assembly when it
/// compiles a method that uses one of its types, so as long as nothing else does, and
/// <see cref="Start"/> is not inlined into its caller, OpenTelemetry*.dll stays unloaded when
/// export is off (a test checks /proc/PID/maps).
///
/// <para><c>UseOtlpExporter()</c> rather than <c>AddOtlpExporter()</c>: only the former reads the
/// metrics-specific variables (<c>OTEL_EXPORTER_OTLP_METRICS_ENDPOINT</c>, <c>_PROTOCOL</c>,
/// <c>_HEADERS</c>, <c>_TIMEOUT</c>) and appends <c>/v1/metrics</c> to a base endpoint for
/// http/protobuf. <see cref="OpenTelemetrySdk.Create"/> gives the SDK its configuration from the
/// environment, so it reads those, <c>OTEL_METRIC_EXPORT_INTERVAL</c>,
/// <c>OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE</c>, <c>OTEL_SERVICE_NAME</c> and
/// <c>OTEL_RESOURCE_ATTRIBUTES</c> itself; <see cref="OtlpSettings"/> checked them first.</para>
/// </summary>
internal static class OtlpExport
{
    // Bounded, so a collector that does not answer cannot hold up the daemon's exit for long.
    private const int ShutdownTimeoutMs = 3000;

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static IDisposable Start(MeterBridge bridge, OtlpSettings settings, string home, string version)
    {
        OpenTelemetrySdk sdk = OpenTelemetrySdk.Create(otel => otel
            .ConfigureResource(resource =>
            {
                // Without OTEL_SERVICE_NAME (or service.name in OTEL_RESOURCE_ATTRIBUTES) the SDK
                // would say unknown_service:tend-daemon.
                if (settings.DefaultServiceName) resource.AddService("tend", serviceVersion: version, autoGenerateServiceInstanceId: false);
                // Several daemons on a host (one per TEND_HOME) are told apart by their home.
                resource.AddAttributes([new("tend.home", home)]);
            })
            .WithMetrics(metrics => metrics.AddMeter(MeterBridge.MeterName))
            .UseOtlpExporter());
        return new Handle(sdk);
    }

    private sealed class Handle(OpenTelemetrySdk sdk) : IDisposable
    {
        public void Dispose()
        {
            // A last export of the final state (apps stopped), within a bound.
            sdk.MeterProvider.Shutdown(ShutdownTimeoutMs);
            sdk.Dispose();
        }
    }
}
