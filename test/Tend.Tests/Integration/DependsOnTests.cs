using Tend.Api;
using Tend.Tests.Support;

namespace Tend.Tests.Integration;

/// <summary>depends_on on real processes: an API that waits for its migration and its database, or never starts.</summary>
public sealed class DependsOnTests : IAsyncLifetime
{
    private readonly TendHome _home = new();

    public Task InitializeAsync() => Task.CompletedTask;
    public async Task DisposeAsync() => await _home.DisposeAsync();

    private string Stamps => Path.Combine(_home.Dir, "stamps");

    private string MigrationConfig(int migrateExitCode) => _home.WriteConfig($"""
        apps:
          db:
            cmd: {TendHome.Child}
            args: [--stamp, {Stamps}, --sleep]
          migrate:
            cmd: {TendHome.Child}
            args: [--stamp, {Stamps}, --exit-after, 300ms, --exit-code, "{migrateExitCode}"]
            restart: never
          api:
            cmd: {TendHome.Child}
            args: [--stamp, {Stamps}, --sleep]
            depends_on:
              db: ready
              migrate: completed
        """);

    [Fact]
    public async Task DependsOn_MigrationExitsZero_ApiStartsAfterIt()
    {
        await _home.OkAsync("start", MigrationConfig(0));

        InstanceInfo[] list = await _home.WaitForAsync(l => l.Single(i => i.Name == "api").Status == "online", "api online");

        Assert.Equal("online", list.Single(i => i.Name == "db").Status);
        Assert.Equal("stopped", list.Single(i => i.Name == "migrate").Status);
        AppInfo migrate = await _home.DescribeAsync("migrate");
        AppInfo api = await _home.DescribeAsync("api");
        Assert.Equal(["db (ready)", "migrate (completed)"], api.DependsOn);
        Assert.Null(api.Supervisors);
        // The daemon's own clock: the API was spawned only once the migration had exited.
        Assert.True(api.Instances.Single().StartedAt >= migrate.Instances.Single().RecentExits.Single().Time,
            $"api started {api.Instances.Single().StartedAt:O}, migrate exited {migrate.Instances.Single().RecentExits.Single().Time:O}");
        string[] starts = [.. File.ReadAllLines(Stamps).Where(l => l.Contains(" start ")).Select(l => l.Split(' ')[3])];
        // db and migrate do not depend on each other, so their own start stamps may come in either
        // order; the API's comes after both.
        Assert.Equal(3, starts.Length);
        Assert.Equal("api#0", starts[2]);
        Assert.Equal(["db#0", "migrate#0"], starts[..2].Order());
    }

    [Fact]
    public async Task DependsOn_MigrationExitsOne_ApiBlockedWithReason_NeverSpawned()
    {
        await _home.OkAsync("start", MigrationConfig(1));

        InstanceInfo[] list = await _home.WaitForAsync(l => l.Single(i => i.Name == "api").Status == "blocked", "api blocked");

        InstanceInfo apiRow = list.Single(i => i.Name == "api");
        Assert.Null(apiRow.Pid);
        Assert.Equal("online", list.Single(i => i.Name == "db").Status);
        InstanceDetail api = (await _home.DescribeAsync("api")).Instances.Single();
        Assert.Equal("dependency migrate (completed) failed: migrate#0 exited with code 1", api.StatusReason);
        Assert.Empty(api.RecentExits);
        Assert.DoesNotContain(File.ReadAllLines(Stamps), l => l.EndsWith(" api#0", StringComparison.Ordinal));
        CliResult listText = await _home.OkAsync("list");
        Assert.Contains("blocked", listText.Stdout);
    }

    [Fact]
    public async Task DependsOn_StopWhileWaiting_StopsWithoutSpawning()
    {
        string config = _home.WriteConfig($"""
            apps:
              migrate:
                cmd: {TendHome.Child}
                args: [--sleep]
                restart: never
              api:
                cmd: {TendHome.Child}
                args: [--stamp, {Stamps}, --sleep]
                depends_on: {"{"} migrate: completed {"}"}
            """);
        await _home.OkAsync("start", config);
        await _home.WaitForAsync(l => l.Single(i => i.Name == "api").Status == "waiting", "api waiting");

        await _home.OkAsync("stop", "api");

        InstanceInfo[] list = await _home.WaitForAsync(l => l.Single(i => i.Name == "api").Status == "stopped", "api stopped");
        Assert.Null(list.Single(i => i.Name == "api").Pid);
        Assert.False(File.Exists(Stamps));
    }
    [Fact]
    public async Task DependsOn_UnderRestForOne_DependencyCrashes_DependentRestartedAfterIt()
    {
        // What docs/config.md recommends: depends_on orders the first start; a rest_for_one
        // supervisor makes a crash of db restart api too, after db and once db is ready again.
        string config = _home.WriteConfig($"""
            apps:
              db:
                cmd: {TendHome.Child}
                args: [--stamp, {Stamps}, --sleep]
              api:
                cmd: {TendHome.Child}
                args: [--stamp, {Stamps}, --sleep]
                depends_on: {"{"} db: ready {"}"}
            supervisors:
              backend:
                strategy: rest_for_one
                max_restarts: 3
                within: 1m
                children: [db, api]
            """);
        await _home.OkAsync("start", config);
        InstanceInfo[] before = await _home.WaitForAsync(l => l.All(i => i.Status == "online"), "db and api online");

        await _home.OkAsync("signal", "SIGKILL", "db");

        InstanceInfo[] after = await _home.WaitForAsync(
            l => l.All(i => i.Status == "online" && i.Pid != before.Single(b => b.Name == i.Name).Pid), "db and api restarted");
        Assert.Equal(["db", "api", "db", "api"], SpawnedApps());
        Assert.Equal(["api#0"], [.. File.ReadAllLines(Stamps).Where(l => l.Split(' ')[1] == "term").Select(l => l.Split(' ')[3])]);
        AppInfo db = await _home.DescribeAsync("db");
        AppInfo api = await _home.DescribeAsync("api");
        Assert.True(api.Instances.Single().StartedAt >= db.Instances.Single().StartedAt,
            $"api started {api.Instances.Single().StartedAt:O}, db {db.Instances.Single().StartedAt:O}");
    }

    /// <summary>The apps in the order the daemon spawned them (its "started" events, id 1001).</summary>
    private string[] SpawnedApps()
    {
        var apps = new List<string>();
        foreach (string line in File.ReadAllLines(Path.Combine(_home.Dir, "daemon.log")))
        {
            System.Text.Json.JsonElement e;
            try { e = System.Text.Json.JsonDocument.Parse(line).RootElement; }
            catch (System.Text.Json.JsonException) { continue; }
            if (e.TryGetProperty("event_id", out var id) && id.GetInt32() == 1001) apps.Add(e.GetProperty("app").GetString()!);
        }
        return [.. apps];
    }
}
