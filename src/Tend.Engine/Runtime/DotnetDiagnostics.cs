using System.Diagnostics.Tracing;
using Microsoft.Diagnostics.NETCore.Client;

namespace Tend.Runtime;

/// <summary>Which dump the runtime writes (createdump's types).</summary>
public enum DotnetDumpType
{
    /// <summary>The managed heap and what it needs: what `dotnet-dump analyze` wants for a leak.</summary>
    Heap,
    /// <summary>All of the process's memory.</summary>
    Full,
    /// <summary>Stacks and modules only: small, for a hang or a crash's where.</summary>
    Mini,
}

/// <summary>
/// On-demand collections from a .NET process over its diagnostic socket (the same IPC the counters
/// use, see <see cref="DotnetCounterSession"/>): a dump written by the runtime's createdump, an
/// EventPipe trace (CPU samples and runtime events, what `dotnet-trace collect` records by default),
/// and a heap snapshot (the runtime's GC heap-dump events, recorded as a nettrace).
/// </summary>
public static class DotnetDiagnostics
{
    private const string RuntimeProvider = "Microsoft-Windows-DotNETRuntime";

    /// <summary>dotnet-trace's default runtime keywords (GC, loader, JIT, exceptions, contention, thread pool …).</summary>
    private const long DefaultRuntimeKeywords = 0x14C14FCCBD;

    /// <summary>GC | Type | GCHeapDump | GCHeapCollect | GCHeapAndTypeNames: the runtime walks its heap in an induced GC and describes every object and type.</summary>
    private const long HeapSnapshotKeywords = 0x1 | 0x80000 | 0x100000 | 0x800000 | 0x1000000;

    /// <summary>The runtime writes the dump to <paramref name="path"/> itself (the path must be writable by the process's user).</summary>
    public static async Task WriteDumpAsync(string socketPath, string path, DotnetDumpType type, CancellationToken ct)
    {
        await using DiagnosticsClientConnector connector = await DiagnosticsClientConnector.FromDiagnosticPort(socketPath + ",connect", ct).ConfigureAwait(false);
        DumpType dumpType = type switch
        {
            DotnetDumpType.Full => DumpType.Full,
            DotnetDumpType.Mini => DumpType.Normal,
            _ => DumpType.WithHeap,
        };
        await connector.Instance.WriteDumpAsync(dumpType, path, logDumpGeneration: false, ct).ConfigureAwait(false);
    }

    /// <summary>CPU samples and the runtime's default events for <paramref name="duration"/>, with rundown (method names) at the end.</summary>
    public static Task TraceAsync(string socketPath, Stream output, TimeSpan duration, CancellationToken ct) =>
        RecordAsync(socketPath, output,
        [
            new EventPipeProvider("Microsoft-DotNETCore-SampleProfiler", EventLevel.Informational),
            new EventPipeProvider(RuntimeProvider, EventLevel.Informational, DefaultRuntimeKeywords),
        ], rundown: true, duration, ct);

    /// <summary>
    /// A heap snapshot: a session with the heap-dump keywords makes the runtime induce a gen-2 GC and
    /// describe the object graph; the session runs for <paramref name="duration"/>, long enough for a
    /// heap of a few hundred MB to be walked.
    /// </summary>
    public static Task HeapSnapshotAsync(string socketPath, Stream output, TimeSpan duration, CancellationToken ct) =>
        RecordAsync(socketPath, output, [new EventPipeProvider(RuntimeProvider, EventLevel.Verbose, HeapSnapshotKeywords)], rundown: false, duration, ct);

    private static async Task RecordAsync(string socketPath, Stream output, IReadOnlyList<EventPipeProvider> providers, bool rundown, TimeSpan duration, CancellationToken ct)
    {
        await using DiagnosticsClientConnector connector = await DiagnosticsClientConnector.FromDiagnosticPort(socketPath + ",connect", ct).ConfigureAwait(false);
        var config = new EventPipeSessionConfiguration(providers, circularBufferSizeMB: 64, requestRundown: rundown, requestStackwalk: true);
        using EventPipeSession session = await connector.Instance.StartEventPipeSessionAsync(config, ct).ConfigureAwait(false);
        Task copy = session.EventStream.CopyToAsync(output, 81920, ct);
        try
        {
            await Task.Delay(duration, ct).ConfigureAwait(false);
        }
        finally
        {
            using var stopTimeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            try { await session.StopAsync(stopTimeout.Token).ConfigureAwait(false); }
            catch (Exception e) when (e is not OutOfMemoryException) { /* gone: the stream ends anyway */ }
        }
        // After the stop the runtime writes the rundown and closes the stream.
        await copy.WaitAsync(TimeSpan.FromSeconds(60), CancellationToken.None).ConfigureAwait(false);
    }
}
