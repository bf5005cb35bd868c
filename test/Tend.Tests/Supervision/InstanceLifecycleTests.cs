using Tend.Processes;
using Tend.Supervision;
using static Tend.Supervision.InstanceStatus;

namespace Tend.Tests.Supervision;

/// <summary>
/// The instance lifecycle as a pure function, checked the way SupervisorDecisions is: every status
/// against every input, then the counters and reasons that ride along, then whole runs as sequences.
/// </summary>
public sealed class InstanceLifecycleTests
{
    private static readonly InstanceStatus[] s_all = Enum.GetValues<InstanceStatus>();

    private static readonly Dictionary<string, LifeInput> s_inputs = new()
    {
        ["begin"] = new LoopBegins(false),
        ["begin-wait"] = new LoopBegins(true),
        ["deps-met"] = new DependenciesMet(),
        ["restart-cmd"] = new RestartCommanded("restart requested", true),
        ["reset"] = new CountersReset(),
        ["started"] = new ProcessStarted(10),
        ["online"] = new CameOnline(10, false),
        ["adopted"] = new Adopted(10, 3, true, "upgrade"),
        ["spawn-failed"] = new SpawnFailed("no such file"),
        ["ready"] = new ReadinessChanged(true, "HTTP 200"),
        ["stop"] = new StopBegins(10, "stop requested"),
        ["app-stopping"] = new AppReportsStopping(),
        ["exited"] = new ProcessExited(10, new ExitStatus(1, null), TimeSpan.FromSeconds(3), "exited", false),
        ["in-place"] = new RestartsInPlace("max_memory"),
        ["scheduled"] = new RestartScheduled(TimeSpan.FromSeconds(1), "exit code 1"),
        ["relaunch"] = new Relaunching("exit code 1"),
        ["breaker-open"] = new BreakerOpened(TimeSpan.FromSeconds(30), 1, "5 failures within 1m"),
        ["breaker-closed"] = new BreakerClosed(10),
        ["held"] = new HeldFor("db", "db is down"),
        ["released"] = new HoldReleased("db"),
        ["ended"] = new LoopEnded(Stopped, "stopped by user", InstanceEndKind.Requested),
    };

    /// <summary>Row: an input; columns: the status it is applied in (Launching … Blocked, enum order); "-": ignored.</summary>
    private static readonly Dictionary<string, string> s_expected = new()
    {
        //                  Launching  Online     Waiting    Stopping   Stopped    Errored    Blocked
        ["begin"] =        "Launching Launching Launching Launching Launching Launching Launching",
        ["begin-wait"] =   "Waiting   Waiting   Waiting   Waiting   Waiting   Waiting   Waiting",
        ["deps-met"] =     "-         -         Launching -         -         -         -",
        ["restart-cmd"] =  "Launching Online    Waiting   Stopping  Stopped   Errored   Blocked",
        ["reset"] =        "Launching Online    Waiting   Stopping  Stopped   Errored   Blocked",
        ["started"] =      "Launching -         -         -         -         -         -",
        ["online"] =       "Online    -         -         -         -         -         -",
        ["adopted"] =      "Online    -         -         -         -         -         -",
        ["spawn-failed"] = "Launching -         -         -         -         -         -",
        ["ready"] =        "-         Online    -         -         -         -         -",
        ["stop"] =         "-         Stopping  -         Stopping  -         -         -",
        ["app-stopping"] = "-         Stopping  -         Stopping  -         -         -",
        ["exited"] =       "Launching Waiting   Waiting   Stopping  Stopped   Errored   Blocked",
        ["in-place"] =     "Launching Launching Launching Launching -         -         -",
        ["scheduled"] =    "Waiting   Waiting   Waiting   Waiting   -         -         -",
        ["relaunch"] =     "-         -         Launching -         -         -         -",
        ["breaker-open"] = "Waiting   Waiting   Waiting   Waiting   -         -         -",
        ["breaker-closed"] = "-       Online    -         -         -         -         -",
        ["held"] =         "Waiting   Waiting   Waiting   Waiting   -         -         -",
        ["released"] =     "-         -         Launching -         -         -         -",
        ["ended"] =        "Stopped   Stopped   Stopped   Stopped   Stopped   Stopped   Stopped",
    };

    public static TheoryData<string, InstanceStatus> Cases()
    {
        var data = new TheoryData<string, InstanceStatus>();
        foreach (string input in s_inputs.Keys)
            foreach (InstanceStatus status in s_all) data.Add(input, status);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void EveryStatusTimesEveryInput(string input, InstanceStatus from)
    {
        string expected = s_expected[input].Split(' ', StringSplitOptions.RemoveEmptyEntries)[Array.IndexOf(s_all, from)];

        LifeState? next = InstanceLifecycle.Next(LifeState.Initial with { Status = from, Ready = true }, s_inputs[input]);

        if (expected == "-") Assert.Null(next);
        else Assert.Equal(Enum.Parse<InstanceStatus>(expected), next?.Status);
    }

    [Fact]
    public void TheTableCoversEveryInputType()
    {
        var covered = s_inputs.Values.Select(i => i.GetType()).ToHashSet();
        var all = typeof(LifeInput).Assembly.GetTypes().Where(t => t.IsSubclassOf(typeof(LifeInput)) && !t.IsAbstract);
        Assert.All(all, t => Assert.Contains(t, covered));
        Assert.Equal(s_inputs.Keys.Order(), s_expected.Keys.Order());
    }

    [Theory]
    [InlineData("stop")]
    [InlineData("app-stopping")]
    [InlineData("exited")]
    [InlineData("scheduled")]
    [InlineData("in-place")]
    [InlineData("ended")]
    [InlineData("begin")]
    public void LeavingOnline_ClearsReady(string input)
    {
        var online = new LifeState(Online, Ready: true, 0, null, null);

        Assert.False(InstanceLifecycle.Next(online, s_inputs[input])!.Value.Ready);
    }

    [Fact]
    public void CameOnline_ReadyOnlyWhenTheAppHasNoCheck()
    {
        var launching = LifeState.Initial with { Status = Launching };

        Assert.True(InstanceLifecycle.Next(launching, new CameOnline(1, ReadyAtOnce: true))!.Value.Ready);
        Assert.False(InstanceLifecycle.Next(launching, new CameOnline(1, ReadyAtOnce: false))!.Value.Ready);
    }

    [Fact]
    public void Adopted_CarriesReadinessAndRestarts_AndIsNotCountedAsARestart()
    {
        var launching = LifeState.Initial with { Status = Launching };

        LifeState ready = InstanceLifecycle.Next(launching, new Adopted(7, 4, Ready: true, "upgrade"))!.Value;
        Assert.Equal((Online, true, 4), (ready.Status, ready.Ready, ready.Restarts));
        Assert.False(InstanceLifecycle.Next(launching, new Adopted(7, 0, Ready: false, "crash"))!.Value.Ready);
        // The metrics count a restart when the counter moves up; an adoption only carries it over.
        var t = new InstanceTransition("web", 0, launching, ready, new Adopted(7, 4, true, "upgrade"));
        Assert.Null(t.CountedRestart);
    }

    [Fact]
    public void Restarts_CountOnRelaunchInPlaceAndCommand_NotOnSchedule_AndResetZeroes()
    {
        var s = new LifeState(Online, true, 2, null, null);

        LifeState scheduled = InstanceLifecycle.Next(s, new RestartScheduled(TimeSpan.FromSeconds(2), "exit code 3"))!.Value;
        Assert.Equal(2, scheduled.Restarts);
        Assert.Equal("restart after exit code 3", scheduled.StatusReason);

        LifeState relaunched = InstanceLifecycle.Next(scheduled, new Relaunching("exit code 3"))!.Value;
        Assert.Equal(3, relaunched.Restarts);
        Assert.Equal("exit code 3", relaunched.LastRestartReason);
        Assert.Null(relaunched.StatusReason);

        LifeState inPlace = InstanceLifecycle.Next(relaunched with { Status = Stopping }, new RestartsInPlace("max_memory: 9 bytes > 1"))!.Value;
        Assert.Equal(4, inPlace.Restarts);
        Assert.Equal("max_memory: 9 bytes > 1", inPlace.LastRestartReason);

        Assert.Equal(5, InstanceLifecycle.Next(inPlace, new RestartCommanded("restart requested", Counts: true))!.Value.Restarts);
        Assert.Equal(4, InstanceLifecycle.Next(inPlace, new RestartCommanded("restart requested", Counts: false))!.Value.Restarts);
        Assert.Equal(0, InstanceLifecycle.Next(inPlace, new CountersReset())!.Value.Restarts);
    }

    [Fact]
    public void Transition_CountedRestart_OnlyWhenTheCounterMovedUp()
    {
        var before = new LifeState(Waiting, false, 1, null, null);
        var after = InstanceLifecycle.Next(before, new Relaunching("exit code 1"))!.Value;

        Assert.Equal("exit code 1", new InstanceTransition("web", 0, before, after, new Relaunching("exit code 1")).CountedRestart);
        Assert.Null(new InstanceTransition("web", 0, after, after with { Restarts = 0 }, new CountersReset()).CountedRestart);
    }

    [Fact]
    public void Waiting_ForDependencies_SaysSo_AndBlockedKeepsTheReason()
    {
        LifeState waiting = InstanceLifecycle.Next(LifeState.Initial, new LoopBegins(WaitsForDependencies: true))!.Value;
        Assert.Equal("waiting for dependencies", waiting.StatusReason);

        LifeState blocked = InstanceLifecycle.Next(waiting, new LoopEnded(Blocked, "db errored", InstanceEndKind.Blocked))!.Value;
        Assert.Equal(Blocked, blocked.Status);
        Assert.Equal("db errored", blocked.StatusReason);
    }

    [Fact]
    public void LoopEnded_InANonFinalStatus_IsABug()
    {
        Assert.Throws<ArgumentException>(() => InstanceLifecycle.Next(LifeState.Initial, new LoopEnded(Online, "?", InstanceEndKind.Requested)));
    }

    [Fact]
    public void ACrashLoop_AsASequence()
    {
        LifeInput[] run =
        [
            new LoopBegins(false), new ProcessStarted(10), new CameOnline(10, false), new ReadinessChanged(true, "HTTP 200"),
            new ProcessExited(10, new ExitStatus(1, null), TimeSpan.FromSeconds(1), "exited", false),
            new RestartScheduled(TimeSpan.FromSeconds(1), "exit code 1"), new Relaunching("exit code 1"),
            new SpawnFailed("no such file"), new RestartScheduled(TimeSpan.FromSeconds(2), "spawn failed"), new Relaunching("spawn failed"),
            new ProcessStarted(11), new CameOnline(11, true),
            new ProcessExited(11, new ExitStatus(1, null), TimeSpan.FromSeconds(1), "exited", false),
            new LoopEnded(Errored, "crashed 2 times within 10s", InstanceEndKind.GaveUp),
        ];
        LifeState s = LifeState.Initial;
        var statuses = new List<InstanceStatus>();
        foreach (LifeInput input in run)
        {
            s = InstanceLifecycle.Next(s, input) ?? throw new Xunit.Sdk.XunitException($"{input} was ignored in {s.Status}");
            statuses.Add(s.Status);
        }

        Assert.Equal([Launching, Launching, Online, Online, Waiting, Waiting, Launching, Launching, Waiting, Launching, Launching, Online, Waiting, Errored], statuses);
        Assert.Equal(2, s.Restarts);
        Assert.False(s.Ready);
        Assert.Equal("crashed 2 times within 10s", s.StatusReason);
    }
}
