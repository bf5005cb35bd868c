using Tend.Api;
using Tend.Daemon.Wire;
using Tend.Processes;
using Tend.Supervision;

namespace Tend.Tests.Daemon;

/// <summary>The lines `tend` prints for each typed outcome; scripts read them, so they are pinned here.</summary>
public sealed class OutcomeTextTests
{
    [Fact]
    public void Started_NamesAddedApps_AndThoseAlreadyRunning()
    {
        ActionResult result = OutcomeText.ToResult(new AppsStarted(["api"], ["web", "db"]));

        Assert.Equal(["api"], result.Affected);
        Assert.Equal("started api (web already running; db already running)", result.Message);
        Assert.Equal("nothing to start", OutcomeText.Sentence(new AppsStarted([], [])));
    }

    [Theory]
    [InlineData(InstanceVerb.Stopped, "stopped web#0, web#1")]
    [InlineData(InstanceVerb.Restarted, "restarted web#0, web#1")]
    [InlineData(InstanceVerb.Flushed, "flushed web#0, web#1")]
    [InlineData(InstanceVerb.LogsReopened, "reopened the log files of web#0, web#1")]
    public void InstancesActed_VerbAndLabels(InstanceVerb verb, string expected) =>
        Assert.Equal(expected, OutcomeText.Sentence(new InstancesActed(verb, ["web#0", "web#1"])));

    [Fact]
    public void InstancesActed_None_SaysNothing() =>
        Assert.Equal("reset nothing", OutcomeText.Sentence(new InstancesActed(InstanceVerb.Reset, [])));

    [Fact]
    public void Subtree_NamesTheSupervisor() =>
        Assert.Equal("stopped supervisor backend (no apps)", OutcomeText.Sentence(new SubtreeActed(InstanceVerb.Stopped, "backend", [])));

    [Fact]
    public void Signalled_SaysMainProcessOrGroup_OrThatNothingRuns()
    {
        Assert.Equal("sent SIGUSR2 to the process groups of web#0",
            OutcomeText.Sentence(new Signalled("web", Signals.SIGUSR2, SignalScope.Group, ["web#0"])));
        Assert.Equal("no running process in web to signal", OutcomeText.Sentence(new Signalled("web", Signals.SIGHUP, SignalScope.Main, [])));
    }

    [Fact]
    public void Reloaded_InPlaceAppsSayWithWhichSignal()
    {
        var outcome = new AppsReloaded([new AppReload("web", null, []), new AppReload("nginx", Signals.SIGHUP, ["nginx#0"])]);

        ActionResult result = OutcomeText.ToResult(outcome);

        Assert.Equal(["web", "nginx"], result.Affected);
        Assert.Equal("reloaded web, nginx in place (SIGHUP to the main process of nginx#0)", result.Message);
    }

    [Fact]
    public void Reloaded_StoppedAppsSayNothingWasReplaced()
    {
        Assert.Equal("reloaded web; nothing running in worker to reload (stopped; tend start worker starts it)",
            OutcomeText.Sentence(new AppsReloaded([new AppReload("web", null, []), new AppReload("worker", null, [], NothingRunning: true)])));
        Assert.Equal("nothing running in a, b to reload (stopped; tend start NAME starts it)",
            OutcomeText.Sentence(new AppsReloaded([new AppReload("a", null, [], true), new AppReload("b", null, [], true)])));
    }

    [Fact]
    public void Scaled_UpDownAndUnchanged()
    {
        Assert.Equal("scaled web from 1 to 3 instances: started web#1, web#2",
            OutcomeText.Sentence(new Scaled("web", 1, 3, ["web#1", "web#2"], [], 3)));
        Assert.Equal("scaled web from 3 to 2 instances: stopped and removed web#2",
            OutcomeText.Sentence(new Scaled("web", 3, 2, [], ["web#2"], 2)));
        Assert.Equal("web already has 2 instances", OutcomeText.Sentence(new Scaled("web", 2, 2, [], [], 2)));
    }

    [Fact]
    public void Resurrected_AppendsWhatCouldNotBeRead() =>
        Assert.Equal("started web (dump.json is corrupt; used dump.json.bak)",
            OutcomeText.Sentence(new Resurrected(new AppsStarted(["web"], []), ["dump.json is corrupt", "used dump.json.bak"])));

    [Fact]
    public void Deployed_ByStrategy()
    {
        Assert.Equal("deployed web blue-green: 2 new instances serving, the old set stopped",
            OutcomeText.Sentence(new Deployed("web", DeployStrategy.BlueGreen, 2, 0, TimeSpan.Zero)));
        Assert.Equal("deployed web by canary: 1 watched for 30s, then all 4 replaced",
            OutcomeText.Sentence(new Deployed("web", DeployStrategy.Canary, 4, 1, TimeSpan.FromSeconds(30))));
    }

    [Fact]
    public void StepsTaken_EachStepsSentence_InOrder() =>
        Assert.Equal("started worker; reloaded web; scaled web from 1 to 2 instances: started web#1",
            OutcomeText.Sentence(new StepsTaken([
                new AppsStarted(["worker"], []),
                new AppsReloaded([new AppReload("web", null, [])]),
                new Scaled("web", 1, 2, ["web#1"], [], 2),
            ])));

    [Fact]
    public void EveryOutcomeTypeHasWording()
    {
        // A new outcome type must be worded here before the daemon can answer with it.
        var types = typeof(CommandOutcome).Assembly.GetTypes()
            .Where(t => t.IsSubclassOf(typeof(CommandOutcome)) && !t.IsAbstract)
            .Select(t => t.Name).Order().ToList();
        Assert.Equal(["AppsDeleted", "AppsReloaded", "AppsStarted", "Deployed", "InstancesActed", "Resurrected", "Scaled", "Signalled",
            "StateSaved", "StepsTaken", "SubtreeActed", "TreeAlreadyRunning"], types);
    }
}
