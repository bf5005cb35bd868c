using Microsoft.Extensions.Hosting;

namespace Tend.Hosting;

/// <summary>
/// Ties the notifications to the host's lifetime: READY=1 once every hosted service has started
/// (so after Kestrel is listening and after any warm-up done in a StartAsync), STOPPING=1 as soon
/// as a stop begins, and WATCHDOG=1 on a timer from the very start until the host has stopped.
/// </summary>
/// <remarks>
/// The watchdog runs during start-up and shutdown too: the manager's watchdog clock may run from
/// spawn, and a slow warm-up or a long drain is not a hang.
/// </remarks>
internal sealed class TendLifecycleService(ITendNotifier notifier, TimeSpan? watchdogInterval, TimeProvider timeProvider)
    : IHostedLifecycleService, IDisposable
{
    private readonly Lock _gate = new();
    private ITimer? _watchdog;

    public Task StartingAsync(CancellationToken cancellationToken)
    {
        if (watchdogInterval is { } interval)
        {
            lock (_gate)
                _watchdog ??= timeProvider.CreateTimer(static state => ((ITendNotifier)state!).Watchdog(), notifier, interval, interval);
        }
        return Task.CompletedTask;
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken)
    {
        notifier.Ready();
        return Task.CompletedTask;
    }

    public Task StoppingAsync(CancellationToken cancellationToken)
    {
        notifier.Stopping();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken)
    {
        StopWatchdog();
        return Task.CompletedTask;
    }

    public void Dispose() => StopWatchdog();

    private void StopWatchdog()
    {
        lock (_gate)
        {
            _watchdog?.Dispose();
            _watchdog = null;
        }
    }
}
