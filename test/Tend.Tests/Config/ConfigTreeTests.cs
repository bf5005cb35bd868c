using Tend.Config;

namespace Tend.Tests.Config;

/// <summary>supervisors:, depends_on and significant: the specs they produce, and bad trees rejected with exact messages.</summary>
public sealed class ConfigTreeTests : IDisposable
{
    private readonly ConfigTestDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private void AssertErrors(string yaml, params string[] expected) => Assert.Equal(expected, _dir.Errors(yaml));

    private static ChildRef App(string name) => new(ChildKind.App, name);
    private static ChildRef Sup(string name) => new(ChildKind.Supervisor, name);

    [Fact]
    public void Load_Supervisors_ProduceExactSpecs()
    {
        TendConfig config = _dir.Load("""
            apps:
              db: { run: node db.js }
              migrate: { run: node migrate.js, restart: never }
              api: { run: node api.js, depends_on: { db: ready, migrate: completed } }
              mailer: { run: node mail.js, restart: on-failure, significant: true }
              metrics: { run: node metrics.js }
            supervisors:
              backend:
                strategy: rest_for_one
                max_restarts: 3
                within: 10s
                children: [db, migrate, api, jobs]
              jobs:
                strategy: one-for-all
                children: [mailer]
                auto_shutdown: any_significant
                restart: on-failure
            """);

        Assert.Equal(
            new TreeSpec(new[]
            {
                new SupervisorSpec
                {
                    Name = "backend", Strategy = SupervisorStrategy.RestForOne, MaxRestarts = 3, Within = TimeSpan.FromSeconds(10),
                    Children = new[] { App("db"), App("migrate"), App("api"), Sup("jobs") },
                },
                new SupervisorSpec
                {
                    Name = "jobs", Strategy = SupervisorStrategy.OneForAll, Children = new[] { App("mailer") },
                    AutoShutdown = AutoShutdown.AnySignificant, Restart = RestartPolicy.OnFailure,
                },
            }),
            config.Tree);
        Assert.Equal(new Dependency[] { new("db", DependencyCondition.Ready), new("migrate", DependencyCondition.Completed) },
            config.Apps.Single(a => a.Name == "api").DependsOn);
        Assert.True(config.Apps.Single(a => a.Name == "mailer").Significant);
        Assert.Equal(new SupervisorSpec
        {
            Name = "root", MaxRestarts = 3, Within = TimeSpan.FromMinutes(1), Children = new[] { App("metrics"), Sup("backend") },
        }, config.Root);
        Assert.True(config.HasTree);
    }

    [Fact]
    public void Load_SupervisorDefaults_AreOtps()
    {
        TendConfig config = _dir.Load("apps:\n  web: { run: node a.js }\nsupervisors:\n  front: { children: [web] }\n");

        Assert.Equal(new SupervisorSpec
        {
            Name = "front", Strategy = SupervisorStrategy.OneForOne, MaxRestarts = 1, Within = TimeSpan.FromSeconds(5),
            Children = new[] { App("web") }, AutoShutdown = AutoShutdown.Never, Restart = RestartPolicy.Always,
        }, config.Tree.Supervisors.Single());
    }

    [Fact]
    public void Load_DependsOnList_MeansStarted()
    {
        TendConfig config = _dir.Load("apps:\n  db: { run: node db.js }\n  api: { run: node api.js, depends_on: [db] }\n");

        Assert.Equal(new Dependency[] { new("db", DependencyCondition.Started) }, config.Apps[1].DependsOn);
        Assert.Equal(TreeSpec.Flat, config.Tree);
    }

    [Fact]
    public void Load_FlatConfig_HasNoTree()
    {
        TendConfig config = _dir.Load("apps:\n  a: { run: node a.js }\n  b: { run: node b.js }\n");

        Assert.False(config.HasTree);
        Assert.Equal(new[] { App("a"), App("b") }, config.Root.Children);
    }

    [Fact]
    public void Load_SameTreeTwice_IsEqual()
    {
        const string yaml = "apps:\n  a: { run: node a.js }\nsupervisors:\n  s: { strategy: one_for_all, children: [a] }\n";

        Assert.Equal(_dir.Load(yaml), _dir.Load(yaml));
        Assert.NotEqual(_dir.Load(yaml), _dir.Load(yaml.Replace("one_for_all", "rest_for_one")));
    }

    [Fact]
    public void Load_SupervisorNestingCycle_Rejected()
    {
        AssertErrors("apps:\n  a: { run: node a.js }\nsupervisors:\n  s1: { children: [a, s2] }\n  s2: { children: [s3] }\n  s3: { children: [s1] }\n",
            "ROOT/tend.yaml:4:23: supervisors.s1.children: cycle: s1 → s2 → s3 → s1; a supervisor cannot contain itself");
    }

    [Fact]
    public void Load_SupervisorListingItself_Rejected()
    {
        AssertErrors("apps:\n  a: { run: node a.js }\nsupervisors:\n  s: { children: [a, s] }\n",
            "ROOT/tend.yaml:4:22: supervisors.s.children: cycle: s → s; a supervisor cannot contain itself");
    }

    [Fact]
    public void Load_UnknownChild_SuggestsNearest()
    {
        AssertErrors("apps:\n  web: { run: node a.js }\nsupervisors:\n  s: { children: [wbe] }\n",
            "ROOT/tend.yaml:4:19: supervisors.s.children[0]: unknown child \"wbe\": not an app or a supervisor; did you mean \"web\"?");
    }

    [Fact]
    public void Load_ChildListedTwice_Rejected()
    {
        AssertErrors("apps:\n  web: { run: node a.js }\nsupervisors:\n  s:\n    children:\n      - web\n      - web\n",
            "ROOT/tend.yaml:7:9: supervisors.s.children[1]: \"web\" is listed twice; first at line 6");
    }

    [Fact]
    public void Load_ChildUnderTwoSupervisors_Rejected()
    {
        AssertErrors("apps:\n  web: { run: node a.js }\nsupervisors:\n  s1: { children: [web] }\n  s2: { children: [web] }\n",
            "ROOT/tend.yaml:5:20: supervisors.s2.children[0]: \"web\" is already a child of supervisor \"s1\" (line 4); a child has one supervisor");
    }

    [Fact]
    public void Load_SignificantOnPermanent_Rejected()
    {
        AssertErrors("apps:\n  web:\n    run: node a.js\n    significant: true\nsupervisors:\n  s: { children: [web], auto_shutdown: any_significant }\n",
            "ROOT/tend.yaml:4:5: apps.web.significant: a permanent child (restart: always) cannot be significant; use restart: on-failure or never");
    }

    [Fact]
    public void Load_SignificantUnderAutoShutdownNever_Rejected()
    {
        AssertErrors("apps:\n  job:\n    run: node a.js\n    restart: never\n    significant: true\nsupervisors:\n  s: { children: [job] }\n",
            "ROOT/tend.yaml:5:5: apps.job.significant: significant has no effect: supervisor \"s\" has auto_shutdown: never; set auto_shutdown: any_significant or all_significant on it");
    }

    [Fact]
    public void Load_SignificantUnderRoot_Rejected()
    {
        AssertErrors("apps:\n  job: { run: node a.js, restart: never, significant: true }\n",
            "ROOT/tend.yaml:2:42: apps.job.significant: significant has no effect: job sits under the root, whose auto_shutdown is never; place it under a supervisor with auto_shutdown");
    }

    [Fact]
    public void Load_UnknownDependency_SuggestsNearest()
    {
        AssertErrors("apps:\n  db: { run: node db.js }\n  api:\n    run: node api.js\n    depends_on: { dbb: ready }\n",
            "ROOT/tend.yaml:5:19: apps.api.depends_on.dbb: unknown app \"dbb\"; did you mean \"db\"?");
    }

    [Fact]
    public void Load_DependencyOnSupervisor_Rejected()
    {
        AssertErrors("apps:\n  db: { run: node db.js }\n  api: { run: node api.js, depends_on: [back] }\nsupervisors:\n  back: { children: [db] }\n",
            "ROOT/tend.yaml:3:41: apps.api.depends_on.back: \"back\" is a supervisor; depends_on names apps");
    }

    [Fact]
    public void Load_DependencyCycle_Rejected()
    {
        AssertErrors("apps:\n  a: { run: node a.js, depends_on: [b] }\n  b: { run: node b.js, depends_on: [c] }\n  c: { run: node c.js, depends_on: [a] }\n",
            "ROOT/tend.yaml:4:37: apps.c.depends_on.a: dependency cycle: a → b → c → a");
    }

    [Fact]
    public void Load_DependencyOnItself_Rejected()
    {
        AssertErrors("apps:\n  a: { run: node a.js, depends_on: { a: started } }\n",
            "ROOT/tend.yaml:2:38: apps.a.depends_on.a: dependency cycle: a → a");
    }

    [Fact]
    public void Load_DependencyStartingLater_Rejected()
    {
        AssertErrors("apps:\n  api: { run: node api.js, depends_on: [db] }\n  db: { run: node db.js }\n",
            "ROOT/tend.yaml:2:41: apps.api.depends_on.db: db starts after api (start order: api, db), so api would wait for it forever; place db before api");
    }

    [Fact]
    public void Load_DependencyAcrossSupervisors_FollowsTreeOrder()
    {
        TendConfig config = _dir.Load("apps:\n  api: { run: node api.js, depends_on: { db: ready } }\n  db: { run: node db.js }\nsupervisors:\n  data: { children: [db] }\n  web: { children: [api] }\n");

        Assert.Equal(new[] { Sup("data"), Sup("web") }, config.Root.Children);
    }

    [Fact]
    public void Load_CompletedOnPermanentApp_Rejected()
    {
        AssertErrors("apps:\n  migrate: { run: node m.js }\n  api: { run: node api.js, depends_on: { migrate: completed } }\n",
            "ROOT/tend.yaml:3:42: apps.api.depends_on.migrate: completed waits for migrate to exit 0, but migrate has restart: always and would be started again; give it restart: on-failure or never");
    }

    [Fact]
    public void Load_BadSupervisorValues_AllReported()
    {
        AssertErrors("apps:\n  a: { run: node a.js }\nsupervisors:\n  s:\n    strategy: one_for_none\n    max_restarts: -1\n    within: 0s\n    auto_shutdown: always\n    children: a\n  t: {}\n",
            "ROOT/tend.yaml:5:15: supervisors.s.strategy: expected one_for_one, one_for_all or rest_for_one, got \"one_for_none\"; did you mean \"one_for_one\"?",
            "ROOT/tend.yaml:6:19: supervisors.s.max_restarts: expected a whole number ≥ 0, got \"-1\"",
            "ROOT/tend.yaml:7:13: supervisors.s.within: expected a duration greater than 0, like 5s",
            "ROOT/tend.yaml:8:20: supervisors.s.auto_shutdown: expected never, any_significant or all_significant, got \"always\"",
            "ROOT/tend.yaml:9:15: supervisors.s.children: expected a list of app and supervisor names, got \"a\"",
            "ROOT/tend.yaml:10:3: supervisors.t: no children; list the apps and supervisors it supervises under children:");
    }

    [Fact]
    public void Load_RootIntensity_SetsTheRootsLimit()
    {
        TendConfig config = _dir.Load("apps:\n  a: { run: node a.js }\nroot:\n  max_restarts: 10\n  within: 30s\nsupervisors:\n  s: { children: [a] }\n");

        Assert.Equal((10, TimeSpan.FromSeconds(30)), (config.Tree.RootMaxRestarts, config.Tree.RootWithin));
        Assert.Equal((10, TimeSpan.FromSeconds(30)), (config.Root.MaxRestarts, config.Root.Within));
    }

    [Fact]
    public void Load_NoRootKey_RootHasItsDefaultIntensity()
    {
        TendConfig config = _dir.Load("apps:\n  a: { run: node a.js }\nsupervisors:\n  s: { children: [a] }\n");

        Assert.Equal((3, TimeSpan.FromMinutes(1)), (config.Root.MaxRestarts, config.Root.Within));
    }

    [Fact]
    public void Load_RootWithOneKey_KeepsTheOtherDefault()
    {
        TendConfig config = _dir.Load("apps:\n  a: { run: node a.js }\nroot: { max_restarts: 0 }\nsupervisors:\n  s: { children: [a] }\n");

        Assert.Equal((0, TimeSpan.FromMinutes(1)), (config.Root.MaxRestarts, config.Root.Within));
    }

    [Fact]
    public void Load_BadRootValues_AllReported()
    {
        AssertErrors("apps:\n  a: { run: node a.js }\nroot:\n  max_restart: 5\n  max_restarts: lots\n  within: 0s\n  strategy: one_for_all\nsupervisors:\n  s: { children: [a] }\n",
            "ROOT/tend.yaml:4:3: root.max_restart: unknown key \"max_restart\"; did you mean \"max_restarts\"?",
            "ROOT/tend.yaml:5:17: root.max_restarts: expected a whole number ≥ 0, got \"lots\"",
            "ROOT/tend.yaml:6:11: root.within: expected a duration greater than 0, like 1m",
            "ROOT/tend.yaml:7:3: root.strategy: unknown key \"strategy\"");
    }

    [Fact]
    public void Load_RootNotAMapping_Rejected()
    {
        AssertErrors("apps:\n  a: { run: node a.js }\nroot: 5\nsupervisors:\n  s: { children: [a] }\n",
            "ROOT/tend.yaml:3:7: root: expected a mapping with max_restarts and within, got \"5\"");
    }

    [Fact]
    public void Load_RootWithoutSupervisors_Rejected()
    {
        AssertErrors("apps:\n  a: { run: node a.js }\nroot: { max_restarts: 5 }\n",
            "ROOT/tend.yaml:3:1: root: has no effect without a supervisors: section; the root's intensity counts only restarts of the supervisors under it (each app's own max_restarts governs the apps)");
    }

    [Fact]
    public void Load_UnknownTopLevelKey_SuggestsRoot()
    {
        AssertErrors("apps:\n  a: { run: node a.js }\nroto: { max_restarts: 5 }\nsupervisors:\n  s: { children: [a] }\n",
            "ROOT/tend.yaml:3:1: roto: unknown key \"roto\"; did you mean \"root\"?");
    }

    [Fact]
    public void Load_SupervisorNames_CheckedAgainstApps()
    {
        AssertErrors("apps:\n  web: { run: node a.js }\nsupervisors:\n  web: { children: [web] }\n  root: { children: [web] }\n",
            "ROOT/tend.yaml:5:3: supervisors.root: \"root\" is reserved for the implicit root supervisor that holds everything not placed elsewhere",
            "ROOT/tend.yaml:4:3: supervisors.web: \"web\" is already an app (line 2); apps and supervisors share one set of names");
    }

    [Fact]
    public void Load_BadDependencyCondition_Suggests()
    {
        AssertErrors("apps:\n  db: { run: node db.js }\n  api: { run: node api.js, depends_on: { db: redy } }\n",
            "ROOT/tend.yaml:3:46: apps.api.depends_on.db: expected started, ready or completed, got \"redy\"; did you mean \"ready\"?");
    }

    [Fact]
    public void Load_KillTimeoutInfinityAndZero_AreOtpShutdowns()
    {
        TendConfig config = _dir.Load("apps:\n  a: { run: node a.js, kill_timeout: infinity }\n  b: { run: node b.js, kill_timeout: 0 }\n");

        Assert.Equal(Timeout.InfiniteTimeSpan, config.Apps[0].KillTimeout);
        Assert.Equal(TimeSpan.Zero, config.Apps[1].KillTimeout);
    }
}
