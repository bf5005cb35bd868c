using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Tend.Hosting;

/// <summary>The one line an app adds: <c>builder.Services.AddTend()</c>.</summary>
public static class TendHostingExtensions
{
    /// <summary>
    /// Registers <see cref="ITendNotifier"/>, and when the process runs with <c>NOTIFY_SOCKET</c> set
    /// (under Tend or systemd) a hosted service that sends READY=1 once the host has started,
    /// STOPPING=1 when it begins to stop and, if <c>WATCHDOG_USEC</c> is set for this process,
    /// WATCHDOG=1 every half of it. Without <c>NOTIFY_SOCKET</c> only a disabled notifier is
    /// registered: nothing runs. Calling it twice registers nothing more.
    /// </summary>
    public static IServiceCollection AddTend(this IServiceCollection services) =>
        services.AddTend(TendEnvironment.FromProcess());

    /// <summary><see cref="AddTend(IServiceCollection)"/> for a generic host builder.</summary>
    public static IHostBuilder UseTend(this IHostBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.ConfigureServices(static (_, services) => services.AddTend());
    }

    /// <summary><see cref="AddTend(IServiceCollection)"/> for <c>HostApplicationBuilder</c>, <c>WebApplicationBuilder</c> and the like.</summary>
    public static TBuilder UseTend<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddTend();
        return builder;
    }

    internal static IServiceCollection AddTend(this IServiceCollection services, TendEnvironment environment)
    {
        ArgumentNullException.ThrowIfNull(services);
        if (!environment.HasNotifySocket)
        {
            services.TryAddSingleton<ITendNotifier>(static _ => TendNotifier.Disabled());
            return services;
        }

        services.TryAddSingleton<ITendNotifier>(sp => new TendNotifier(environment.NotifySocket, sp.GetService<ILogger<TendNotifier>>()));
        var watchdog = environment.WatchdogInterval(Environment.ProcessId);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, TendLifecycleService>(sp => new TendLifecycleService(
            sp.GetRequiredService<ITendNotifier>(), watchdog, sp.GetService<TimeProvider>() ?? TimeProvider.System)));
        return services;
    }
}
