namespace Tend.Health;

/// <summary>
/// One kind of check, built once per probe and run many times by a <see cref="ProbeRunner"/>. A check
/// never blocks a thread while it waits, bounds itself by its spec's timeout, and reports failures as a
/// failed <see cref="ProbeResult"/>; it throws only <see cref="OperationCanceledException"/> when the
/// caller's token is cancelled.
/// </summary>
public interface IProbe : IAsyncDisposable
{
    Task<ProbeResult> CheckAsync(CancellationToken ct);
}
