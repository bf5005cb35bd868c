using System.Diagnostics.Tracing;
using System.Globalization;
using Microsoft.Diagnostics.NETCore.Client;

namespace Tend.Runtime;

/// <summary>
/// One EventPipe session with one .NET process: the <c>System.Runtime</c> event source's counters,
/// every few seconds, read from the stream the runtime writes back on the diagnostic socket.
/// This is the only type that touches the diagnostics client, so nothing loads it unless a .NET
/// instance is actually watched (the CLI never is). The stream is read by <see cref="NettraceReader"/>
/// with async reads: no thread is held per session.
///
/// Harmless to the app by construction: the runtime writes events into a circular buffer of its
/// own (1 MB here; counters need a few KB per interval) and drops them rather than block the app
/// when we read slowly; no rundown is asked for (that would walk every loaded method at stop) and
/// no stacks. If the daemon dies the socket closes and the runtime ends the session itself.
/// </summary>
internal sealed class DotnetCounterSession : IAsyncDisposable
{
    private const string RuntimeSource = "System.Runtime";
    private static readonly TimeSpan s_stopTimeout = TimeSpan.FromSeconds(2);

    private readonly DiagnosticsClientConnector _connector;
    private readonly EventPipeSession _session;
    private readonly CancellationTokenSource _stopReading = new();

    private DotnetCounterSession(DiagnosticsClientConnector connector, EventPipeSession session)
    {
        _connector = connector;
        _session = session;
        Completion = Task.CompletedTask;
    }

    /// <summary>Ends when the stream does: the process exited, or the session was stopped. Faults when reading failed.</summary>
    public Task Completion { get; private set; }

    /// <summary>
    /// Connects to <paramref name="socketPath"/> and starts the session. <paramref name="onCounter"/>
    /// gets each counter's payload, on the session's reading task.
    /// </summary>
    public static async Task<DotnetCounterSession> StartAsync(string socketPath, TimeSpan interval,
        Action<IDictionary<string, object>> onCounter, CancellationToken ct)
    {
        DiagnosticsClientConnector connector = await DiagnosticsClientConnector.FromDiagnosticPort(socketPath + ",connect", ct).ConfigureAwait(false);
        EventPipeSession? session = null;
        try
        {
            var arguments = new Dictionary<string, string>
            {
                ["EventCounterIntervalSec"] = Math.Max(1, interval.TotalSeconds).ToString(CultureInfo.InvariantCulture),
            };
            var provider = new EventPipeProvider(RuntimeSource, EventLevel.Informational, 0, arguments);
            var config = new EventPipeSessionConfiguration([provider], circularBufferSizeMB: 1, requestRundown: false, requestStackwalk: false);
            session = await connector.Instance.StartEventPipeSessionAsync(config, ct).ConfigureAwait(false);
            var result = new DotnetCounterSession(connector, session);
            var reader = new NettraceReader(new BufferedStream(session.EventStream, 16 * 1024), (_, payload) => onCounter(payload),
                m => m.Provider == RuntimeSource && m.Name == "EventCounters");
            result.Completion = Task.Run(() => reader.ReadAsync(result._stopReading.Token));
            return result;
        }
        catch
        {
            session?.Dispose();
            await connector.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// Asks the runtime to end the session (it then closes the stream), and lets go of everything.
    /// Bounded: a process that is gone or hangs does not hold the caller.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (!Completion.IsCompleted)
        {
            using var timeout = new CancellationTokenSource(s_stopTimeout);
            try { await _session.StopAsync(timeout.Token).ConfigureAwait(false); }
            catch (Exception) { /* the process is gone or not answering: closing the stream below ends it too */ }
        }
        try { await Completion.WaitAsync(s_stopTimeout).ConfigureAwait(false); }
        catch (Exception) { /* a read failed, or the stream did not end in time: the session is over either way */ }
        await _stopReading.CancelAsync().ConfigureAwait(false);
        _session.Dispose();
        try { await Completion.WaitAsync(s_stopTimeout).ConfigureAwait(false); }
        catch (Exception) { /* cut short by the close */ }
        _stopReading.Dispose();
        await _connector.DisposeAsync().ConfigureAwait(false);
    }
}
