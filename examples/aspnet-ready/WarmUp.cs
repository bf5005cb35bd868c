using Tend.Hosting;

namespace ReadyDemo;

/// <summary>
/// A stand-in for a real warm-up (caches, migrations, JIT): the host is not started, so Tend is not
/// told READY=1, until this finishes. (A WebApplication starts the server after the app's own hosted
/// services, so the port opens only after this too; READY=1 follows once Kestrel listens.)
/// </summary>
internal sealed class WarmUp(IConfiguration configuration, ITendNotifier tend, ILogger<WarmUp> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var warmUp = TimeSpan.FromMilliseconds(configuration.GetValue("WARMUP_MS", 2000));
        tend.SetStatus($"warming up for {warmUp.TotalSeconds:0.#}s");
        logger.LogInformation("Warming up for {WarmUp}", warmUp);
        await Task.Delay(warmUp, cancellationToken);
        tend.SetStatus($"serving on :{configuration.GetValue("PORT", 5080)}");
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
