using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Tend.Hosting.Tests.Support;
using Tend.Tests.Support;

namespace Tend.Hosting.Tests;

/// <summary>AddTend in a real Host, talking to a real datagram socket.</summary>
public sealed class TendHostingExtensionsTests
{
    private static readonly TimeSpan s_deadline = TimeSpan.FromSeconds(30);

    [Fact]
    public void AddTend_WithoutNotifySocket_RegistersOnlyADisabledNotifier()
    {
        var services = new ServiceCollection();

        services.AddTend(new TendEnvironment(NotifySocket: null, WatchdogUsec: "200000"));

        Assert.DoesNotContain(services, d => d.ServiceType == typeof(IHostedService));
        var descriptor = Assert.Single(services);
        Assert.Equal(typeof(ITendNotifier), descriptor.ServiceType);
        using var provider = services.BuildServiceProvider();
        var notifier = provider.GetRequiredService<ITendNotifier>();
        Assert.False(notifier.IsEnabled);
        notifier.Ready();
        notifier.SetStatus("x");
        Assert.Equal(0, notifier.FailedSends);
    }

    [Fact]
    public void AddTend_CalledTwice_RegistersOnce()
    {
        var services = new ServiceCollection();
        var environment = new TendEnvironment("/tmp/tend-h-unused.sock");

        services.AddTend(environment);
        services.AddTend(environment);

        Assert.Single(services, d => d.ServiceType == typeof(IHostedService));
        Assert.Single(services, d => d.ServiceType == typeof(ITendNotifier));
    }

    [Fact]
    public void UseTend_OnHostApplicationBuilder_RegistersTheNotifier()
    {
        // The public overloads read the real environment: whether it is enabled depends on how
        // the tests themselves are run, so only the registration is checked.
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());

        builder.UseTend();

        using var host = builder.Build();
        var notifier = host.Services.GetRequiredService<ITendNotifier>();
        Assert.Equal(!string.IsNullOrEmpty(Environment.GetEnvironmentVariable("NOTIFY_SOCKET")), notifier.IsEnabled);
    }

    [Fact]
    public async Task Host_WithNotifySocket_SendsReadyOnStartThenStoppingOnStop()
    {
        using var listener = NotifySocketListener.BindPath();
        using var host = BuildHost(new TendEnvironment(listener.Address));

        await host.StartAsync().WaitAsync(s_deadline);
        var afterStart = listener.Drain();
        await host.StopAsync().WaitAsync(s_deadline);
        var afterStop = listener.Drain();

        Assert.Equal(["READY=1"], afterStart);
        Assert.Equal(["STOPPING=1"], afterStop);
        Assert.Equal(0, host.Services.GetRequiredService<ITendNotifier>().FailedSends);
    }

    [Fact]
    public async Task Host_WithNotifySocket_SendsReadyOnlyAfterEveryHostedServiceHasStarted()
    {
        using var listener = NotifySocketListener.BindPath();
        var probe = new SlowStartingService(listener);
        // AddTend first: READY must still wait for a service registered after it.
        using var host = BuildHost(new TendEnvironment(listener.Address), services => services.AddSingleton<IHostedService>(probe));

        await host.StartAsync().WaitAsync(s_deadline);

        Assert.Equal(0, probe.QueuedWhenStartFinished);
        Assert.Equal(["READY=1"], listener.Drain());
        await host.StopAsync().WaitAsync(s_deadline);
    }

    [Fact]
    public async Task Host_WithWatchdogUsec_SendsWatchdogRepeatedly()
    {
        using var listener = NotifySocketListener.BindPath();
        using var host = BuildHost(new TendEnvironment(listener.Address, WatchdogUsec: "200000"));

        await host.StartAsync().WaitAsync(s_deadline);
        var watchdogs = 0;
        while (watchdogs < 2)
        {
            if (await listener.ReceiveAsync(s_deadline) == "WATCHDOG=1") watchdogs++;
        }
        await host.StopAsync().WaitAsync(s_deadline);
    }

    [Fact]
    public async Task Host_WithWatchdogForThisPid_PingsEveryHalfIntervalUntilStopped()
    {
        using var listener = NotifySocketListener.BindPath();
        var clock = new TimerWatchingClock();
        using var host = BuildHost(
            new TendEnvironment(listener.Address, WatchdogUsec: "10000000", WatchdogPid: Environment.ProcessId.ToString()),
            services => services.AddSingleton<TimeProvider>(clock));

        await host.StartAsync().WaitAsync(s_deadline);
        Assert.Equal(["READY=1"], listener.Drain());
        clock.Advance(TimeSpan.FromSeconds(4.9));
        Assert.Empty(listener.Drain());
        clock.Advance(TimeSpan.FromSeconds(0.1));
        Assert.Equal(["WATCHDOG=1"], listener.Drain());
        clock.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(["WATCHDOG=1"], listener.Drain());

        await host.StopAsync().WaitAsync(s_deadline);
        Assert.Equal(["STOPPING=1"], listener.Drain());
        Assert.Equal(0, clock.PendingTimers);
        clock.Advance(TimeSpan.FromMinutes(1));
        Assert.Empty(listener.Drain());
    }

    [Fact]
    public async Task Host_WithWatchdogPidOfAnotherProcess_SendsNoWatchdog()
    {
        using var listener = NotifySocketListener.BindPath();
        var clock = new TimerWatchingClock();
        using var host = BuildHost(
            new TendEnvironment(listener.Address, WatchdogUsec: "200000", WatchdogPid: "1"),
            services => services.AddSingleton<TimeProvider>(clock));

        await host.StartAsync().WaitAsync(s_deadline);
        // A fake clock instead of a wait: no timer exists, and a minute "passing" sends nothing.
        Assert.Equal(0, clock.PendingTimers);
        clock.Advance(TimeSpan.FromMinutes(1));

        Assert.Equal(["READY=1"], listener.Drain());
        await host.StopAsync().WaitAsync(s_deadline);
    }

    [Fact]
    public async Task Host_WithSocketGone_StartsAndStopsAndCountsTheFailures()
    {
        var address = "/tmp/tend-h-missing-" + Guid.NewGuid().ToString("N")[..8] + "/notify.sock";
        using var host = BuildHost(new TendEnvironment(address));

        await host.StartAsync().WaitAsync(s_deadline);
        await host.StopAsync().WaitAsync(s_deadline);

        Assert.Equal(2, host.Services.GetRequiredService<ITendNotifier>().FailedSends);
    }

    private static IHost BuildHost(TendEnvironment environment, Action<IServiceCollection>? more = null)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Services.AddTend(environment);
        more?.Invoke(builder.Services);
        return builder.Build();
    }

    /// <summary>A hosted service with a warm-up: notes what had reached the manager when it finished starting.</summary>
    private sealed class SlowStartingService(NotifySocketListener listener) : IHostedService
    {
        public int QueuedWhenStartFinished { get; private set; } = -1;

        public async Task StartAsync(CancellationToken cancellationToken)
        {
            await Task.Delay(200, cancellationToken);
            QueuedWhenStartFinished = listener.Drain().Count;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
