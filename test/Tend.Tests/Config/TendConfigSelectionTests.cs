using Tend.Config;

namespace Tend.Tests.Config;

public sealed class TendConfigSelectionTests : IDisposable
{
    private readonly ConfigTestDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private TendConfig ThreeApps() => _dir.Load("apps:\n  web: { run: node w }\n  worker: { run: node k }\n  db: { run: node d }\n");

    [Fact]
    public void Only_KeepsDeclarationOrder()
    {
        TendConfig only = ThreeApps().Only(["db", "web"]);

        Assert.Equal(["web", "db"], only.Apps.Select(a => a.Name));
    }

    [Fact]
    public void Only_AcceptsCommaSeparatedLists()
    {
        TendConfig only = ThreeApps().Only(["db, worker"]);

        Assert.Equal(["worker", "db"], only.Apps.Select(a => a.Name));
    }

    [Fact]
    public void Only_NoNames_ReturnsEverything()
    {
        TendConfig config = ThreeApps();

        Assert.Equal(config, config.Only([]));
    }

    [Fact]
    public void Only_UnknownName_SuggestsNearest()
    {
        var e = Assert.Throws<ConfigException>(() => ThreeApps().Only(["wbe", "cache"]));

        Assert.Equal(
            [$"{_dir.ConfigPath}: --only: no app named \"wbe\"; did you mean \"web\"?", $"{_dir.ConfigPath}: --only: no app named \"cache\""],
            e.Errors.Select(x => x.ToString()));
    }
}
