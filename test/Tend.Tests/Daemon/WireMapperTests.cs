using Tend.Api;
using Tend.Config;
using Tend.Daemon.Wire;
using Tend.Processes;
using Tend.Runtime;
using Tend.Supervision;

namespace Tend.Tests.Daemon;

/// <summary>The daemon's one mapping from the engine's snapshots to the wire: names, units, rounding, masking.</summary>
public sealed class WireMapperTests
{
    private static readonly DateTimeOffset s_at = new(2026, 12, 5, 9, 0, 0, TimeSpan.Zero);

    private static InstanceSnapshot Snapshot(InstanceStatus status = InstanceStatus.Online) =>
        new(7, "web", 1, 4242, status, Ready: true, Restarts: 3, "spawned", "crashed", new ExitStatus(null, Signals.SIGKILL), "killed")
        {
            Uptime = TimeSpan.FromMilliseconds(1500.7),
            CpuPercent = 12.345,
            MemoryBytes = 1024,
            StatusText = "connected to postgres://app:hunter2@db/main",
        };

    [Fact]
    public void Instance_StatusLowerCase_UptimeInMs_CpuRounded_SignalNamed_StatusTextMasked()
    {
        InstanceInfo info = WireMapper.ToInfo(Snapshot());

        Assert.Equal("online", info.Status);
        Assert.Equal(1500, info.UptimeMs);
        Assert.Equal(12.3, info.CpuPercent);
        Assert.Equal("SIGKILL", info.ExitSignal);
        Assert.Null(info.ExitCode);
        Assert.Equal("web", info.Name);
        Assert.Equal(1, info.Instance);
        Assert.DoesNotContain("hunter2", info.StatusText);
    }

    [Fact]
    public void InstanceDetails_RecentExitsCarryMsAndSignalNames_ReasonsMasked()
    {
        var exit = new InstanceExit(s_at, 99, new ExitStatus(1, null), TimeSpan.FromSeconds(2), "exit 1 talking to https://u:pw123@api/x");
        var details = new InstanceDetails(Snapshot(InstanceStatus.Waiting), s_at, 2, "/o.log", "/e.log", 5, [exit], null, null, null);

        InstanceDetail detail = WireMapper.ToDetail(details);

        Assert.Equal("waiting", detail.Status);
        ExitRecord record = Assert.Single(detail.RecentExits);
        Assert.Equal(1, record.ExitCode);
        Assert.Null(record.ExitSignal);
        Assert.Equal(2000, record.UptimeMs);
        Assert.DoesNotContain("pw123", record.Reason);
        Assert.Equal(5, detail.DroppedLines);
        Assert.Null(detail.Probes);
    }

    [Fact]
    public void DotnetCounters_CarryEveryFigure_Rounded()
    {
        var counters = new DotnetCounters(s_at, 1, 2, 3, 4, 5.4, 6, 7.123, 8, 9, 10, 11, 12);

        Assert.Equal(new DotnetCountersInfo(s_at, 1, 2, 3, 4, 5, 6, 7.12, 8, 9, 10, 11, 12), WireMapper.ToInfo(counters));
    }

    [Theory]
    [InlineData(HealthTier.Healthy, "healthy")]
    [InlineData(HealthTier.Degraded, "degraded")]
    [InlineData(HealthTier.Critical, "critical")]
    [InlineData(HealthTier.Stopped, "stopped")]
    public void AppHealth_TierNames(HealthTier tier, string wire)
    {
        AppHealth health = WireMapper.ToWire(new AppHealthState("web", tier, Critical: true, 1, 2, [Snapshot()]));

        Assert.Equal(wire, health.Status);
        Assert.Equal("online", Assert.Single(health.Instances).Status);
    }

    [Fact]
    public void TreeAppNode_JoinsDistinctInstanceStatuses_AndListsLivePids()
    {
        var node = new TreeNodeSnapshot("web", TreeNodeKind.App, null, null, 3, null, null, RestartPolicy.OnFailure, null,
            [Snapshot(), Snapshot() with { Number = 2, Pid = null, Status = InstanceStatus.Errored }, Snapshot() with { Number = 3, Pid = 17 }],
            [new Dependency("db", DependencyCondition.Ready)], []);

        TreeNodeInfo info = WireMapper.ToInfo(node);

        Assert.Equal("app", info.Kind);
        Assert.Equal("online,errored", info.Status);
        Assert.Equal([4242, 17], info.Pids);
        Assert.Equal(["db (ready)"], info.DependsOn);
        Assert.Equal("on-failure", info.Restart);
    }

    [Fact]
    public void TreeSupervisorNode_StrategyAndIntensityInWireUnits()
    {
        var node = new TreeNodeSnapshot("backend", TreeNodeKind.Supervisor, SupervisorStrategy.RestForOne, SupervisorNode.Failed, 4, 3,
            TimeSpan.FromSeconds(5), RestartPolicy.Always, "gave up", [], [], []);

        TreeNodeInfo info = WireMapper.ToInfo(node);

        Assert.Equal("rest_for_one", info.Strategy);
        Assert.Equal("failed", info.Status);
        Assert.Equal(5000, info.WithinMs);
        Assert.Equal("gave up", info.Reason);
    }
}
