using System.Reflection;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using NetArchTest.Rules;

namespace Tend.Tests.Architecture;

/// <summary>
/// The layers as a test, read from the compiled IL: which project may reference which, and inside the
/// engine, which folder (namespace) may use which. A reference that points up a layer fails here,
/// naming the types, so the layering in docs/architecture.md cannot drift by accident.
/// </summary>
public sealed class LayerTests
{
    /// <summary>The engine's folders, lowest first. Each may use those before it, never those after.</summary>
    internal static readonly string[] EngineLayers =
    [
        "Tend.Security",
        "Tend.Audit",
        "Tend.Config",
        "Tend.Export",
        "Tend.Health",
        "Tend.Runtime",
        "Tend.Metrics",
        "Tend.Logs",
        "Tend.Diagnostics",
        "Tend.Events",
        "Tend.Cluster",
        "Tend.Watch",
        "Tend.Jobs",
        "Tend.State",
        "Tend.Supervision",
        "Tend.Alerts",
        "Tend.Diag",
    ];

    private static readonly Assembly s_platform = typeof(Tend.Io.EpollLoop).Assembly;
    private static readonly Assembly s_engine = typeof(Tend.Supervision.Supervisor).Assembly;
    private static readonly Assembly s_cli = typeof(Tend.Cli.CliContext).Assembly;
    private static readonly Assembly s_protocol = typeof(Tend.Api.TendJsonContext).Assembly;

    [Fact]
    public void Engine_EveryFolder_HasAPlaceInTheLayers()
    {
        var namespaces = s_engine.GetTypes()
            .Select(t => t.Namespace)
            .Where(n => n is not null && n.StartsWith("Tend.", StringComparison.Ordinal))
            .Select(n => string.Join('.', n!.Split('.').Take(2)))
            .Distinct()
            .Order(StringComparer.Ordinal);

        Assert.All(namespaces, n => Assert.True(EngineLayers.Contains(n),
            $"{n} is a new engine folder: give it its place in {nameof(EngineLayers)} (and in docs/architecture.md)"));
    }

    [Fact]
    public void Engine_NoFolder_UsesAFolderAboveIt()
    {
        var violations = new List<string>();
        for (int i = 0; i < EngineLayers.Length; i++)
        {
            for (int j = i + 1; j < EngineLayers.Length; j++)
            {
                TestResult result = Types.InAssembly(s_engine)
                    .That().ResideInNamespace(EngineLayers[i])
                    .ShouldNot().HaveDependencyOnAny(EngineLayers[j])
                    .GetResult();
                if (!result.IsSuccessful)
                    violations.AddRange(result.FailingTypes.Select(t => $"{t.FullName} ({EngineLayers[i]}) uses {EngineLayers[j]}, a layer above it"));
            }
        }
        Assert.True(violations.Count == 0, "upward references in the engine:\n" + string.Join("\n", violations));
    }

    [Fact]
    public void Platform_ReferencesNothingOfTends()
    {
        Assert.DoesNotContain(References(s_platform.Location), r => r.StartsWith("Tend", StringComparison.Ordinal) || r.StartsWith("tend", StringComparison.Ordinal));
        TestResult result = Types.InAssembly(s_platform).ShouldNot().HaveDependencyOnAny([.. EngineLayers]).GetResult();
        Assert.True(result.IsSuccessful, string.Join(", ", result.FailingTypes?.Select(t => t.FullName) ?? []));
    }

    [Fact]
    public void Engine_ReferencesOnlyThePlatform_AndNeverAspNet()
    {
        var refs = References(s_engine.Location);
        Assert.Contains("Tend.Platform", refs);
        Assert.DoesNotContain(refs, r => r.StartsWith("Microsoft.AspNetCore", StringComparison.Ordinal));
        Assert.DoesNotContain(refs, r => r is "tend" or "tend-daemon" or "Tend.Protocol");
        // Nor its namespace by another way in: the engine speaks in snapshots and outcomes, the daemon maps them.
        TestResult result = Types.InAssembly(s_engine).ShouldNot().HaveDependencyOnAny("Tend.Api").GetResult();
        Assert.True(result.IsSuccessful, "the engine uses wire types: " + string.Join(", ", result.FailingTypes?.Select(t => t.FullName) ?? []));
    }

    [Fact]
    public void Protocol_IsOnlyContracts_ReferencingNothingOfTends()
    {
        Assert.DoesNotContain(References(s_protocol.Location), r => r.StartsWith("Tend", StringComparison.Ordinal) || r.StartsWith("tend", StringComparison.Ordinal));
        Assert.All(s_protocol.GetTypes().Where(t => t.IsPublic), t => Assert.Equal("Tend.Api", t.Namespace));
    }

    [Fact]
    public void Cli_NeverLoadsAspNet()
    {
        Assert.DoesNotContain(References(s_cli.Location), r => r.StartsWith("Microsoft.AspNetCore", StringComparison.Ordinal));
    }

    /// <summary>
    /// `tend` is a client of the socket: NativeAOT compiles what it reaches, and the engine's loader,
    /// importers, exporter and supervisor would double its size and its start (bench/notes.md). The
    /// commands that need them hand off to the daemon's binary (EngineHandoff).
    /// </summary>
    [Fact]
    public void Cli_ReachesNoEngineBeyondItsSmallHelpers()
    {
        TestResult result = Types.InAssembly(s_cli).ShouldNot().HaveDependencyOnAny(
            "Tend.Supervision", "Tend.Config.ConfigLoader", "Tend.Config.Import", "Tend.Export", "Tend.State", "Tend.Jobs",
            "Tend.Logs", "Tend.Alerts", "Tend.Diag", "Tend.Watch", "Tend.Cluster", "Tend.Health", "YamlDotNet").GetResult();
        Assert.True(result.IsSuccessful, "the CLI uses the engine: " + string.Join(", ", result.FailingTypes?.Select(t => t.FullName) ?? []));
    }

    [Fact]
    public void Daemon_IsTheOnlyHostOfAspNet_AndNothingReferencesIt()
    {
        string daemon = Path.Combine(Path.GetDirectoryName(Tend.Tests.Support.TestPaths.Cli)!, "daemon", "tend-daemon.dll");
        Assert.True(File.Exists(daemon), daemon);
        Assert.Contains(References(daemon), r => r.StartsWith("Microsoft.AspNetCore", StringComparison.Ordinal));
        Assert.DoesNotContain("tend-daemon", References(s_cli.Location));
        Assert.DoesNotContain("tend-daemon", References(s_engine.Location));
    }

    /// <summary>The names of the assemblies <paramref name="path"/> references, read from its metadata.</summary>
    private static List<string> References(string path)
    {
        using var stream = File.OpenRead(path);
        using var pe = new PEReader(stream);
        MetadataReader md = pe.GetMetadataReader();
        return [.. md.AssemblyReferences.Select(h => md.GetString(md.GetAssemblyReference(h).Name))];
    }
}
