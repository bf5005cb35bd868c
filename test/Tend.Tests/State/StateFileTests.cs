using Tend.Config;
using Tend.State;

namespace Tend.Tests.State;

public sealed class StateFileTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "tend-state-" + Guid.NewGuid().ToString("N")[..12]);

    public StateFileTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void WriteRead_SpecWithDependencies_RoundTrips()
    {
        var spec = new AppSpec
        {
            Name = "api",
            Command = "node",
            Args = new[] { "api.js" },
            Cwd = "/srv",
            Env = EquatableDictionary.Empty,
            Restart = RestartPolicy.OnFailure,
            Significant = true,
            DependsOn = new Dependency[] { new("db", DependencyCondition.Ready), new("migrate", DependencyCondition.Completed) },
        };
        Assert.Equal(spec, RoundTrip(spec));
    }

    /// <summary>Writes a state holding <paramref name="spec"/> and reads it back; no problem may be reported.</summary>
    private AppSpec RoundTrip(AppSpec spec)
    {
        var state = new PersistedState(PersistedState.CurrentVersion, 1, [new PersistedApp(spec, "/srv/tend.yaml", [new PersistedInstance(0, 0, true, null, null)])]);
        string path = Path.Combine(_dir, "state.json");
        StateFile.Write(path, state, keepBackup: false);
        var problems = new List<string>();
        PersistedState? read = StateFile.Read(path, problems);
        Assert.Empty(problems);
        return Assert.Single(read!.Apps).Spec;
    }

    [Fact]
    public void WriteRead_SpecWithIsolation_RoundTrips()
    {
        // A daemon that could not read these back came up with no apps at all.
        var spec = new AppSpec
        {
            Name = "db",
            Command = "postgres",
            Args = EquatableArray<string>.Empty,
            Cwd = "/srv",
            Env = EquatableDictionary.Empty,
            Isolation = new IsolationSpec
            {
                UserName = "postgres", Uid = 101, Gid = 104, Groups = new[] { 104u, 103u }, Home = "/var/lib/postgresql", Shell = "/bin/bash",
                Umask = 0x17, NoNewPrivileges = true, Capabilities = new[] { "net_bind_service" },
                Limits = new[] { new Tend.Isolation.ResourceLimit("nofile", 1024, 4096), new Tend.Isolation.ResourceLimit("core", ulong.MaxValue, ulong.MaxValue) },
                Resources = new Tend.Isolation.CgroupResources(50L << 20, null, 1.5, 20),
            },
        };
        Assert.Equal(spec, RoundTrip(spec));
    }

    [Fact]
    public void Write_SyncsTheDirectory_WithoutAnExceptionOnTheWay()
    {
        // The directory fsync once went through File.OpenHandle, which refuses directories: it threw
        // (and was swallowed) on every save, so the rename was never made durable. Exceptions are
        // first-chance here, caught or not, and only this thread's count.
        var state = new PersistedState(PersistedState.CurrentVersion, 1, []);
        string path = Path.Combine(_dir, "state.json");
        int thread = Environment.CurrentManagedThreadId;
        var thrown = new List<string>();
        EventHandler<System.Runtime.ExceptionServices.FirstChanceExceptionEventArgs> onThrow = (_, e) =>
        {
            if (Environment.CurrentManagedThreadId == thread) lock (thrown) thrown.Add(e.Exception.GetType().Name + ": " + e.Exception.Message);
        };
        AppDomain.CurrentDomain.FirstChanceException += onThrow;
        try
        {
            StateFile.Write(path, state, keepBackup: true);
            StateFile.Write(path, state, keepBackup: true);
        }
        finally
        {
            AppDomain.CurrentDomain.FirstChanceException -= onThrow;
        }

        Assert.Empty(thrown);
        Assert.NotNull(StateFile.Read(path, []));
    }

    [Fact]
    public void WriteRead_SupervisorStatuses_RoundTrip()
    {
        var root = new SupervisorSpec { Name = "root", Children = new[] { new ChildRef(ChildKind.Supervisor, "s") } };
        var sub = new SupervisorSpec { Name = "s", Children = new[] { new ChildRef(ChildKind.App, "x") } };
        var state = new PersistedState(PersistedState.CurrentVersion, 1, [], [root, sub],
            [new PersistedSupervisor("root", "running", null), new PersistedSupervisor("s", "failed", "supervisor s gave up")]);
        string path = Path.Combine(_dir, "state.json");

        StateFile.Write(path, state, keepBackup: false);
        PersistedState? read = StateFile.Read(path, []);

        Assert.Equal(state.TreeStatus, read!.TreeStatus);
        Assert.Contains("\"tree_status\"", File.ReadAllText(path));
    }

    [Fact]
    public void Read_FileWithoutSupervisorStatuses_StillReads_StatusesNull()
    {
        // A state.json written before supervisor statuses were kept: same version, no tree_status.
        string path = Path.Combine(_dir, "state.json");
        File.WriteAllText(path, """
            { "version": 1, "next_id": 1, "apps": [],
              "tree": [ { "name": "root", "children": [ { "kind": "supervisor", "name": "s" } ] },
                        { "name": "s", "children": [ { "kind": "app", "name": "x" } ] } ] }
            """);
        var problems = new List<string>();

        PersistedState? read = StateFile.Read(path, problems);

        Assert.Empty(problems);
        Assert.Equal(["root", "s"], read!.Tree!.Select(t => t.Name));
        Assert.Null(read.TreeStatus);
    }
}
