using Tend.Config;

namespace Tend.Tests.Config;

/// <summary>watch: its forms (true, a path, a list, the mapping), paths resolved against the app's cwd, and mistakes with their line.</summary>
public sealed class ConfigWatchTests : IDisposable
{
    private readonly ConfigTestDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private AppSpec LoadApp(string appYaml) => _dir.Load("apps:\n  web:\n    run: node web.js\n" + appYaml).Apps.Single();

    [Fact]
    public void Load_WatchForms()
    {
        Directory.CreateDirectory(Path.Combine(_dir.Root, "src"));
        Directory.CreateDirectory(Path.Combine(_dir.Root, "lib"));

        Assert.Null(LoadApp("").Watch);
        Assert.Null(LoadApp("    watch: false\n").Watch);
        Assert.Equal(new WatchSpec { Paths = new([_dir.Root]) }, LoadApp("    watch: true\n").Watch);
        Assert.Equal([Path.Combine(_dir.Root, "src")], LoadApp("    watch: src\n").Watch!.Paths);
        Assert.Equal([Path.Combine(_dir.Root, "src"), Path.Combine(_dir.Root, "lib")], LoadApp("    watch: [src, lib]\n").Watch!.Paths);
        WatchSpec full = LoadApp("    watch:\n      paths: [src]\n      include: ['*.js']\n      ignore: ['*.test.js']\n      gitignore: false\n      debounce: 1s\n      action: reload\n      poll_interval: 2s\n      max_watches: 50\n").Watch!;
        Assert.Equal(new WatchSpec
        {
            Paths = new([Path.Combine(_dir.Root, "src")]), Include = new(["*.js"]), Ignore = new(["*.test.js"]), Gitignore = false,
            Debounce = TimeSpan.FromSeconds(1), Action = WatchAction.Reload, PollInterval = TimeSpan.FromSeconds(2), MaxWatches = 50,
        }, full);
    }

    [Fact]
    public void Load_BadWatch_ExactErrors()
    {
        Assert.Equal(["ROOT/tend.yaml:4:12: apps.web.watch: \"nope\" does not exist (ROOT/nope)"],
            _dir.Errors("apps:\n  web:\n    run: node web.js\n    watch: nope\n"));
        Assert.Equal(["ROOT/tend.yaml:4:22: apps.web.watch.action: expected restart or reload, got \"bounce\""],
            _dir.Errors("apps:\n  web:\n    run: node web.js\n    watch: { action: bounce }\n"));
        Assert.Equal(["ROOT/tend.yaml:4:14: apps.web.watch.ignore_watch: unknown key \"ignore_watch\"; Tend calls it ignore"],
            _dir.Errors("apps:\n  web:\n    run: node web.js\n    watch: { ignore_watch: [x] }\n"));
        Assert.Equal(["ROOT/tend.yaml:4:29: apps.web.watch.poll_interval: must be at least 100ms"],
            _dir.Errors("apps:\n  web:\n    run: node web.js\n    watch: { poll_interval: 10ms }\n"));
    }
}

