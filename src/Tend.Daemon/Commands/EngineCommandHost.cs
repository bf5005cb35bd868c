using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Tend.Api;
using Tend.Daemon.Commands.Startup;

namespace Tend.Daemon.Commands;

/// <summary>
/// <c>tend-daemon --command NAME JSON</c>: the `tend` commands that need the engine, parsed by the CLI
/// and run here, where the engine is (<see cref="EngineCommands"/>). Nothing of the daemon starts: no
/// socket, no web host, no state. Errors print as the CLI prints its own.
/// </summary>
internal static class EngineCommandHost
{
    public static async Task<int> RunAsync(string name, string json)
    {
        TextWriter output = Console.Out, error = Console.Error;
        try
        {
            return name switch
            {
                EngineCommands.Run => await Run(Read(json, EngineCommandJsonContext.Default.RunInvocation)).ConfigureAwait(false),
                EngineCommands.Import => ImportRunner.Import(Read(json, EngineCommandJsonContext.Default.ImportInvocation), output, error),
                EngineCommands.StartImport => ImportRunner.StartImport(Read(json, EngineCommandJsonContext.Default.StartImportInvocation), error),
                EngineCommands.Export => ExportRunner.Export(Read(json, EngineCommandJsonContext.Default.ExportInvocation), output, error),
                EngineCommands.Startup => StartupRunner.Startup(Read(json, EngineCommandJsonContext.Default.StartupInvocation), output, error),
                EngineCommands.Unstartup => StartupRunner.Unstartup(Read(json, EngineCommandJsonContext.Default.UnstartupInvocation), output, error),
                EngineCommands.Check => CheckRunner.Check(Read(json, EngineCommandJsonContext.Default.CheckInvocation), output, error),
                _ => throw new CommandException($"tend-daemon: unknown command \"{name}\" (one of run, import, start-import, export, startup, unstartup, check)", 2),
            };
        }
        catch (CommandException ex)
        {
            error.WriteLine("error: " + ex.Message);
            foreach (string detail in ex.Details) error.WriteLine(detail);
            return ex.ExitCode;
        }
        finally
        {
            output.Flush();
            error.Flush();
        }
    }

    /// <summary>
    /// The environment of the `tend` that handed over (execve keeps it): what a config's ${VAR} and
    /// the imported apps see, as the CLI gave it before, without the dashboard's token.
    /// </summary>
    internal static Dictionary<string, string> CallerEnvironment()
    {
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (System.Collections.DictionaryEntry entry in Environment.GetEnvironmentVariables())
            if (entry.Key is string key && entry.Value is string value && key != "TEND_TOKEN") env[key] = value;
        return env;
    }

    private static Task<int> Run(RunInvocation run) => ForegroundRunner.RunAsync(run.ConfigPath, run.Only, run.LogFormat switch
    {
        null or "text" => Supervision.OutputEcho.Prefixed,
        "json" => Supervision.OutputEcho.JsonLines,
        var other => throw new CommandException($"--log-format must be text or json, not '{other}'", 2),
    }, CancellationToken.None);

    private static T Read<T>(string json, JsonTypeInfo<T> type)
    {
        try
        {
            return JsonSerializer.Deserialize(json, type) ?? throw new CommandException("tend-daemon: the command's arguments are empty", 2);
        }
        catch (JsonException e)
        {
            // Only `tend` writes these; anyone else gets told what they are.
            throw new CommandException($"tend-daemon: the command's arguments are not what `tend` writes ({e.Message})", 2);
        }
    }
}
