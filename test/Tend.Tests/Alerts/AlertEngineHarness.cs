using Microsoft.Extensions.Logging.Abstractions;
using Tend.Alerts;
using Tend.Config;
using Tend.Supervision;

namespace Tend.Tests.Alerts;

/// <summary>
/// A real supervisor and alert engine over a temporary home and a FakeTimeProvider: what the alert
/// tests drive by hand, feeding events and sampler passes as the daemon would.
/// </summary>
public abstract class AlertEngineHarness : IAsyncLifetime
{
    protected string Home { get; } = Directory.CreateTempSubdirectory("tend-alerts-").FullName;
    protected FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 12, 5, 12, 0, 0, TimeSpan.Zero));
    protected HttpClient Http { get; } = new();
    protected Supervisor Supervisor { get; private set; } = null!;
    protected AlertEngine Engine { get; private set; } = null!;

    public Task InitializeAsync()
    {
        Supervisor = new Supervisor(Home, Time, NullLoggerFactory.Instance, persist: false);
        Engine = NewEngine();
        Engine.Start();
        return Task.CompletedTask;
    }

    /// <summary>Another engine over the same home (a daemon restart, as far as alerts go).</summary>
    protected AlertEngine NewEngine() => new(Supervisor, Home, Time, NullLoggerFactory.Instance, Http, new Dictionary<string, string>());

    public async Task DisposeAsync()
    {
        await Engine.DisposeAsync();
        await Supervisor.DisposeAsync();
        Http.Dispose();
        Directory.Delete(Home, recursive: true);
    }

    protected void Apply(IEnumerable<AlertRuleSpec> rules, IEnumerable<ChannelSpec>? channels = null) =>
        Engine.Apply("/tmp/tend.yaml", new AlertsSpec(new EquatableArray<AlertRuleSpec>(rules), new EquatableArray<ChannelSpec>(channels ?? [])));
}
