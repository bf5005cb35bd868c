using System.Diagnostics.Tracing;
using System.Globalization;
using Tend.Metrics;

namespace Tend.Daemon.Otlp;

/// <summary>
/// The OpenTelemetry SDK reports its own trouble — a collector it cannot reach, a rejected export,
/// an instrument it ignored — only on its EventSources ("OpenTelemetry-*"), which nobody reads in
/// a daemon. This listens to them at Warning and above and puts them in daemon.log, at most one
/// line per kind of event every <see cref="Quiet"/> (with how many were held back), so a collector
/// that is down for an hour is a few lines, not one per export.
/// </summary>
internal sealed partial class OtlpDiagnostics : EventListener
{
    public static readonly TimeSpan Quiet = TimeSpan.FromMinutes(5);

    // EventListener's constructor calls OnEventSourceCreated for existing sources before this
    // class's fields are set; events can only follow EnableEvents, but guard anyway.
    private readonly ILogger? _logger;
    private readonly TimeProvider? _time;
    private readonly Dictionary<(string Source, int Id), (long At, int Held)> _last = [];

    public OtlpDiagnostics(ILogger logger, TimeProvider time)
    {
        _logger = logger;
        _time = time;
    }

    protected override void OnEventSourceCreated(EventSource source)
    {
        if (source.Name.StartsWith("OpenTelemetry-", StringComparison.Ordinal)) EnableEvents(source, EventLevel.Warning);
    }

    protected override void OnEventWritten(EventWrittenEventArgs e)
    {
        if (_logger is null || _time is null || e.Level > EventLevel.Warning) return;
        // The SDK sees every meter in the process (ASP.NET's, the runtime's) and warns that it
        // ignores those it was not asked for: by design here, only the Tend meter is exported.
        if (e.EventName == "MetricInstrumentIgnored" && e.Payload is [_, string meter, ..] && meter != MeterBridge.MeterName) return;
        int held;
        lock (_last)
        {
            long now = _time.GetTimestamp();
            var key = (e.EventSource.Name, e.EventId);
            if (_last.TryGetValue(key, out var last) && _time.GetElapsedTime(last.At, now) < Quiet)
            {
                _last[key] = (last.At, last.Held + 1);
                return;
            }
            held = last.Held;
            _last[key] = (now, 0);
        }
        string message = e.Message is { Length: > 0 } format && e.Payload is { } payload
            ? string.Format(CultureInfo.InvariantCulture, format, [.. payload])
            : e.EventName ?? e.EventId.ToString(CultureInfo.InvariantCulture);
        // An exception's first line says what went wrong ("Connection refused (127.0.0.1:4318)");
        // its stack trace is the SDK's, not the operator's.
        if (message.IndexOf('\n') is int newline and >= 0) message = message[..newline].TrimEnd();
        if (e.Level <= EventLevel.Error) Log.SdkError(_logger, e.EventSource.Name, message, held);
        else Log.SdkWarning(_logger, e.EventSource.Name, message, held);
    }

    private static partial class Log
    {
        [LoggerMessage(2114, LogLevel.Error, "OTLP export: {Source}: {Detail} ({Held} more like it held back)")]
        public static partial void SdkError(ILogger logger, string source, string detail, int held);

        [LoggerMessage(2115, LogLevel.Warning, "OTLP export: {Source}: {Detail} ({Held} more like it held back)")]
        public static partial void SdkWarning(ILogger logger, string source, string detail, int held);
    }
}
