namespace Tend.Supervision;

/// <summary>
/// The apps the engine manages, in start order, and the instance ids it hands out. Answers what a
/// target names (an app, app#i, an id, all) and what to suggest when it names nothing. Reads take
/// a copy under the lock; adding and removing are the supervisor's structural commands.
/// </summary>
internal sealed class AppRegistry
{
    private readonly Lock _gate = new();
    private readonly List<App> _apps = [];
    private int _nextId;

    public IReadOnlyList<App> All { get { lock (_gate) return [.. _apps]; } }

    public App? Find(string name)
    {
        lock (_gate) return _apps.FirstOrDefault(a => a.Name == name);
    }

    public int NextId()
    {
        lock (_gate) return _nextId++;
    }

    /// <summary>The ids continue where the previous daemon's stopped (state.json).</summary>
    public void ContinueIdsFrom(int next)
    {
        lock (_gate) _nextId = next;
    }

    public void Add(App app)
    {
        lock (_gate) _apps.Add(app);
    }

    public void Remove(App app)
    {
        lock (_gate) _apps.Remove(app);
    }

    /// <summary>The next id and the apps, read together (what state.json records).</summary>
    public (int NextId, IReadOnlyList<App> Apps) Read()
    {
        lock (_gate) return (_nextId, [.. _apps]);
    }

    /// <summary>The instances a target names, in start order. Throws <see cref="TargetNotFoundException"/>.</summary>
    public IReadOnlyList<Instance> Resolve(string target)
    {
        Target t = new(target);
        if (t.IsAll) return [.. All.SelectMany(a => a.Instances)];
        if (t.TryInstance(out string appName, out int? n) && Find(appName) is App app)
        {
            if (n is null) return app.Instances;
            var picked = app.Instances.Where(x => x.Number == n.Value).ToList();
            if (picked.Count > 0) return picked;
            throw new TargetNotFoundException($"{appName} has no instance #{n} (it has {NumbersOf(app)})");
        }
        if (FindInstance(target) is Instance byId) return [byId];
        throw new TargetNotFoundException($"unknown target \"{target}\": not an app, app#instance, id or all", Suggest(target));
    }

    /// <summary>The apps a rollout command names: one app, or every app for "all" (unless <paramref name="verb"/> takes one only).</summary>
    public List<App> AppsOf(string target, string verb)
    {
        if (new Target(target).IsAll) return [.. All];
        if (Find(target) is App app) return [app];
        throw new TargetNotFoundException($"unknown app \"{target}\" ({verb} takes an app name{(verb == "scale" ? "" : " or all")})", Suggest(target));
    }

    /// <summary>An instance by its numeric id, when <paramref name="target"/> is one.</summary>
    public Instance? FindInstance(string target) =>
        int.TryParse(target, out int id) ? All.SelectMany(a => a.Instances).FirstOrDefault(x => x.Id == id) : null;

    public static string NumbersOf(App app) =>
        app.Instances.Count == 0 ? "none" : string.Join(", ", app.Instances.Select(i => "#" + i.Number).Distinct());

    public IReadOnlyList<string> Suggest(string target)
    {
        var names = All.Select(a => a.Name).ToList();
        if (Config.Suggest.Nearest(target, names) is string best) return [$"did you mean \"{best}\"?"];
        return names.Count > 0 ? [$"known apps: {string.Join(", ", names)}"] : ["no apps are managed; start some with `tend start tend.yaml`"];
    }
}
