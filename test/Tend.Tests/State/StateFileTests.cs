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
        var state = new PersistedState(PersistedState.CurrentVersion, 1, [new PersistedApp(spec, "/srv/tend.yaml", [new PersistedInstance(0, 0, true, null, null)])]);
        string path = Path.Combine(_dir, "state.json");

        StateFile.Write(path, state, keepBackup: false);
        var problems = new List<string>();
        PersistedState? read = StateFile.Read(path, problems);

        Assert.Empty(problems);
        Assert.Equal(spec, Assert.Single(read!.Apps).Spec);
    }
}
