using Tend.Metrics;

namespace Tend.Daemon.Otlp;

/// <summary>
/// On daemon start: read the OTLP settings, and when export is on, publish the daemon's metrics
/// (<see cref="MeterBridge"/> over the daemon's one collection pass) and start the SDK. Every outcome —
/// on, off by a bad variable, failed to start — is one line in daemon.log; none stops the daemon.
/// </summary>
internal static partial class OtlpStartup
{
    /// <summary>The running export (dispose to flush and stop it), or null when export is off.</summary>
    /// <param name="collect">The daemon's metrics, written as one collection pass (the same as /metrics).</param>
    /// <param name="version">The daemon's version, for the resource and the meter.</param>
    public static IDisposable? TryStart(Action<PrometheusWriter> collect, string version, string home, ILogger logger)
    {
        OtlpSettings? settings = OtlpSettings.Read(Environment.GetEnvironmentVariable, out OtlpConfigError? error);
        if (error is not null)
        {
            Log.BadConfig(logger, error.Variable, error.Detail);
            return null;
        }
        if (settings is null) return null;

        var bridge = new MeterBridge(collect, version, e => Log.CollectFailed(logger, e));
        var diagnostics = new OtlpDiagnostics(logger, TimeProvider.System);
        try
        {
            IDisposable export = OtlpExport.Start(bridge, settings, home, version);
            string shown = new Uri(settings.Endpoint).GetComponents(UriComponents.SchemeAndServer | UriComponents.Path, UriFormat.UriEscaped);
            Log.Started(logger, shown, settings.EndpointVariable, settings.Protocol, bridge.Instruments.Count);
            return new Running(export, bridge, diagnostics);
        }
        catch (Exception e)
        {
            // Includes an OpenTelemetry assembly missing from a trimmed install: the runtime
            // throws that when it compiles OtlpExport.Start, here.
            Log.StartFailed(logger, e);
            bridge.Dispose();
            diagnostics.Dispose();
            return null;
        }
    }

    private sealed class Running(IDisposable export, MeterBridge bridge, OtlpDiagnostics diagnostics) : IDisposable
    {
        public void Dispose()
        {
            export.Dispose();
            bridge.Dispose();
            diagnostics.Dispose();
        }
    }

    private static partial class Log
    {
        [LoggerMessage(2110, LogLevel.Information, "OTLP export on: metrics to {Endpoint} (from {Variable}), protocol {Protocol}, {Instruments} instruments")]
        public static partial void Started(ILogger logger, string endpoint, string variable, string protocol, int instruments);

        [LoggerMessage(2111, LogLevel.Error, "OTLP export off: {Variable}: {Problem}")]
        public static partial void BadConfig(ILogger logger, string variable, string problem);

        [LoggerMessage(2112, LogLevel.Error, "OTLP export off: the OpenTelemetry SDK did not start")]
        public static partial void StartFailed(ILogger logger, Exception exception);

        [LoggerMessage(2113, LogLevel.Error, "OTLP export: a metrics collection failed; the previous one is sent again")]
        public static partial void CollectFailed(ILogger logger, Exception exception);
    }
}
