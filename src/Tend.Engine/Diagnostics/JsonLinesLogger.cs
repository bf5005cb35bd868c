using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Tend.Security;

namespace Tend.Diagnostics;

/// <summary>
/// Writes log events as JSON lines, one event per line: time, level, event id and name, the
/// message, and every structured field of the event in snake_case (app, instance, pid, …), so
/// daemon.log can be read by `jq` and by tests. Used by the daemon (daemon.log) and by `tend run`
/// (stderr). A tiny factory of our own keeps Microsoft.Extensions.Logging out of the CLI.
/// Secret-looking values are masked on the way out (<see cref="SecretMask"/>).
/// </summary>
public sealed class JsonLinesLoggerFactory : ILoggerFactory, ILoggerProvider
{
    private readonly Stream _output;
    private readonly Lock _writeLock = new();
    private readonly LogLevel _minimum;
    private readonly TimeProvider _time;

    public JsonLinesLoggerFactory(Stream output, LogLevel minimum = LogLevel.Information, TimeProvider? time = null)
    {
        _output = output;
        _minimum = minimum;
        _time = time ?? TimeProvider.System;
    }

    public ILogger CreateLogger(string categoryName) => new JsonLinesLogger(this, categoryName);

    public void AddProvider(ILoggerProvider provider) { }

    public void Dispose()
    {
        lock (_writeLock) _output.Flush();
    }

    private void Write<TState>(string category, LogLevel level, EventId eventId, TState state, Exception? exception, string message)
    {
        var buffer = new MemoryStream(256);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("time", _time.GetUtcNow().ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture));
            json.WriteString("level", LevelName(level));
            json.WriteString("category", category);
            if (eventId.Id != 0) json.WriteNumber("event_id", eventId.Id);
            if (eventId.Name is { } name) json.WriteString("event", name);
            json.WriteString("message", MaskMessage(message, state));
            if (state is IReadOnlyList<KeyValuePair<string, object?>> fields)
            {
                foreach (var (key, value) in fields)
                {
                    if (key == "{OriginalFormat}") continue;
                    string field = SnakeCase(key);
                    switch (value)
                    {
                        case null: json.WriteNull(field); break;
                        case int i: json.WriteNumber(field, i); break;
                        case long l: json.WriteNumber(field, l); break;
                        case double d: json.WriteNumber(field, d); break;
                        case bool b: json.WriteBoolean(field, b); break;
                        default: json.WriteString(field, MaskField(key, Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture))); break;
                    }
                }
            }
            if (exception is not null) json.WriteString("exception", SecretMask.MaskUrlPassword(exception.ToString()));
            json.WriteEndObject();
        }
        buffer.WriteByte((byte)'\n');
        lock (_writeLock)
        {
            // Logging must never throw into the engine: a full disk costs log lines, not the daemon.
            try
            {
                _output.Write(buffer.GetBuffer(), 0, (int)buffer.Length);
                _output.Flush();
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException)
            {
            }
        }
    }

    // Nothing logs an app's environment today (a test holds us to it), but a field that names a
    // secret, or a URL with a password in any text (a probe's http://user:pass@…, an error that
    // quotes a connection string), must not reach daemon.log whoever adds the log call.
    private static string? MaskField(string key, string? value) =>
        value is null ? null : SecretMask.IsSecretName(key) ? SecretMask.Value(key, value) : SecretMask.MaskUrlPassword(value);

    private static string MaskMessage<TState>(string message, TState state)
    {
        if (state is IReadOnlyList<KeyValuePair<string, object?>> fields)
        {
            foreach (var (key, value) in fields)
            {
                if (key != "{OriginalFormat}" && value is string { Length: > 0 } secret && SecretMask.IsSecretName(key))
                    message = message.Replace(secret, SecretMask.Mask, StringComparison.Ordinal);
            }
        }
        return SecretMask.MaskUrlPassword(message);
    }

    private static string LevelName(LogLevel level) => level switch
    {
        LogLevel.Trace => "trace",
        LogLevel.Debug => "debug",
        LogLevel.Information => "info",
        LogLevel.Warning => "warn",
        LogLevel.Error => "error",
        _ => "critical",
    };

    private static string SnakeCase(string name)
    {
        var sb = new StringBuilder(name.Length + 4);
        for (int i = 0; i < name.Length; i++)
        {
            char c = name[i];
            if (char.IsUpper(c))
            {
                if (i > 0) sb.Append('_');
                sb.Append(char.ToLowerInvariant(c));
            }
            else sb.Append(c);
        }
        return sb.ToString();
    }

    private sealed class JsonLinesLogger(JsonLinesLoggerFactory owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= owner._minimum && logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel)) return;
            owner.Write(category, logLevel, eventId, state, exception, formatter(state, exception));
        }
    }
}
