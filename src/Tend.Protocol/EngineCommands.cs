using System.Text.Json.Serialization;

namespace Tend.Api;

/// <summary>
/// The `tend` commands that need the engine itself (the config loader, the importers, the supervisor)
/// rather than the daemon's socket: `run`, `import`, `export`, `startup`, `unstartup`, `check`, and the import
/// step of `tend start ecosystem.config.js`. The CLI parses them as any other command, then hands the
/// parsed values to the daemon's binary, which carries the engine anyway:
/// <c>tend-daemon --command NAME JSON</c>, where JSON is one of the invocations below. `run`, `import`,
/// `export` and the startup pair replace the CLI's process (execve: same pid, terminal, signals and
/// exit status, which `tend run` as a container's PID 1 needs); the start's import step runs as a
/// child. So `tend` stays a small client of the socket, and starts in a fraction of the time a binary
/// with the whole engine in it takes (docs/architecture.md).
/// </summary>
public static class EngineCommands
{
    /// <summary>The daemon binary's first argument for an engine command.</summary>
    public const string Flag = "--command";

    public const string Run = "run";
    public const string Import = "import";
    public const string StartImport = "start-import";
    public const string Export = "export";
    public const string Startup = "startup";
    public const string Unstartup = "unstartup";
    public const string Check = "check";

    /// <summary>The exit status of <see cref="StartImport"/> for a file that is not another manager's config after all (a tend.yaml): start it as it is.</summary>
    public const int NotForeign = 3;

    /// <summary>What `tend import` converts (the engine's importers; a test keeps the two lists equal).</summary>
    public static IReadOnlyList<string> ImportKinds { get; } = ["pm2", "procfile", "supervisord", "process-compose", "systemd"];
}

/// <summary>`tend run CONFIG [--only …] [--log-format text|json]`: the engine in the foreground. LogFormat null means text.</summary>
public sealed record RunInvocation(string ConfigPath, IReadOnlyList<string> Only, string? LogFormat = null);

/// <summary>`tend import KIND [FILE]`: paths absolute; a missing File means the kind's default name in the working directory.</summary>
public sealed record ImportInvocation(
    string Kind, string? File, string? Output, bool Force, string? Env, IReadOnlyDictionary<string, int>? Formation, bool FromDump,
    IReadOnlyList<string>? MoreFiles = null);

/// <summary>The import step of `tend start FILE`: import Source (any kind it is) into Output, or exit <see cref="EngineCommands.NotForeign"/>.</summary>
/// <param name="Shown">The file as the user named it, for the report.</param>
/// <param name="Env">PM2's <c>--env NAME</c> (env_NAME over env), or null.</param>
/// <param name="MoreSources">More systemd units after Source, imported together with it (their dependencies on each other kept).</param>
public sealed record StartImportInvocation(string Source, string Output, string Shown, string? Env = null, IReadOnlyList<string>? MoreSources = null);

/// <summary>`tend export TARGET [CONFIG]`: Images as the user wrote them (app=REF), checked on the engine's side.</summary>
public sealed record ExportInvocation(
    string Target, string ConfigPath, IReadOnlyList<string> Images, string? Output, string? Namespace, bool Kustomize, string ConfigInImage);

/// <summary>`tend startup`: Scope is "system", "user" or null (the default for who runs it); TendPath the `tend` the unit runs unless Binary names one.</summary>
public sealed record StartupInvocation(
    string? Scope, string? User, string? Home, string? Binary, string? SocketGroup, string? UnitDir,
    bool DryRun, bool NoEnable, string CurrentHome, string? TendPath, string Version);

/// <summary>`tend unstartup`: the same arguments name the same unit as <see cref="StartupInvocation"/>.</summary>
public sealed record UnstartupInvocation(string? Scope, string? User, string? UnitDir);

/// <summary>`tend check [FILE…] [--json]`: absolute paths of the configs to load, in order.</summary>
public sealed record CheckInvocation(IReadOnlyList<string> Paths, bool Json = false);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(RunInvocation))]
[JsonSerializable(typeof(ImportInvocation))]
[JsonSerializable(typeof(StartImportInvocation))]
[JsonSerializable(typeof(ExportInvocation))]
[JsonSerializable(typeof(StartupInvocation))]
[JsonSerializable(typeof(UnstartupInvocation))]
[JsonSerializable(typeof(CheckInvocation))]
public sealed partial class EngineCommandJsonContext : JsonSerializerContext;
