using Tend.Config;
using Tend.Io;
using Tend.Watch;

namespace Tend.Tests.Watch;

/// <summary>What a watch: counts, on a real directory: .gitignore patterns from the defaults, ignore:,
/// include: and the directory's own .gitignore; Tend's log files and their rotations never.</summary>
public sealed class WatchRulesTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("tend-watch-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string P(string relative) => Path.Combine(_dir, relative);

    [Fact]
    public void Counts_FollowsTheDefaultsGitignoreIgnoreAndInclude()
    {
        File.WriteAllText(P(".gitignore"), "dist/\n*.tmp\n!keep.tmp\n");
        var spec = new WatchSpec
        {
            Paths = new([_dir]),
            Ignore = new(["*.test.js", "/fixtures"]),
            Include = new(["*.js", "*.json", "*.tmp"]),
        };
        var rules = new WatchRules(spec, [P("logs/app-out.log")]);

        Assert.True(rules.Counts(P("src/app.js")));
        Assert.True(rules.Counts(P("package.json")));
        Assert.False(rules.Counts(P("README.md")));                  // not included
        Assert.False(rules.Counts(P("src/app.test.js")));            // ignore:
        Assert.False(rules.Counts(P("fixtures/data.json")));         // ignore:, anchored
        Assert.True(rules.Counts(P("src/fixtures/data.json")));      // … only at the top
        Assert.False(rules.Counts(P("node_modules/x/index.js")));    // default
        Assert.False(rules.Counts(P(".git/config.json")));           // default
        Assert.False(rules.Counts(P("dist/bundle.js")));             // .gitignore, a directory
        Assert.False(rules.Counts(P("a.tmp")));                      // .gitignore
        Assert.True(rules.Counts(P("keep.tmp")));                    // .gitignore's negation
        Assert.False(rules.Counts(P("logs/app-out.log")));           // Tend's own
        Assert.False(rules.Counts(P("logs/app-out.log.1")));         // … rotated
        Assert.False(rules.Counts("/elsewhere/app.js"));             // not under a watched path

        Assert.True(rules.SkipDirectory(P("node_modules")));
        Assert.True(rules.SkipDirectory(P("dist")));
        Assert.False(rules.SkipDirectory(P("src")));
    }

    [Fact]
    public void AWatchedFile_OnlyThatFileCounts()
    {
        File.WriteAllText(P("config.yaml"), "a: 1");
        var rules = new WatchRules(new WatchSpec { Paths = new([P("config.yaml")]) }, []);

        Assert.Equal([_dir], rules.Directories);
        Assert.True(rules.Counts(P("config.yaml")));
        Assert.False(rules.Counts(P("other.yaml")));
        Assert.True(rules.SkipDirectory(P("sub")));
    }

    [Fact]
    public void InotifyTree_BeyondItsLimit_SaysSoAndReportsChanges()
    {
        for (int i = 0; i < 4; i++) Directory.CreateDirectory(P($"d{i}"));
        var seen = new List<TreeChange>();
        using var tree = InotifyTree.Open(c => { lock (seen) seen.Add(c); }, maxWatches: 3);

        Assert.Equal(InotifyTree.LimitReached, tree.AddTree(_dir, _ => false));
        Assert.Equal(3, tree.WatchCount);

        using var full = InotifyTree.Open(c => { lock (seen) seen.Add(c); });
        Assert.Equal(0, full.AddTree(_dir, d => d.EndsWith("d3", StringComparison.Ordinal)));
        Assert.Equal(4, full.WatchCount); // the root and d0..d2: d3 skipped
    }
}
