using System.Diagnostics;
using System.Text;
using Tend.Api;
using Tend.Config.Import;

namespace Tend.Daemon.Commands;

/// <summary>
/// Runs an importer for the CLI (`tend import`, and `tend start` of a PM2, Procfile, supervisord or
/// process-compose file): evaluates a JavaScript ecosystem file with the installed node, and writes
/// the report people read.
/// </summary>
internal static class ImportRunner
{
    /// <summary>`tend import`: the tend.yaml on stdout, or into Output; the report on stderr.</summary>
    public static int Import(ImportInvocation invocation, TextWriter output, TextWriter error)
    {
        var env = EngineCommandHost.CallerEnvironment();
        string path = invocation.File ?? Path.GetFullPath(DefaultFile(invocation.Kind, invocation.FromDump, env));
        if (!File.Exists(path)) throw new CommandException($"no such file: {path}", 2);
        var formation = invocation.Formation is null ? null : new Dictionary<string, int>(invocation.Formation, StringComparer.Ordinal);
        foreach (string other in invocation.MoreFiles ?? [])
            if (!File.Exists(other)) throw new CommandException($"no such file: {other}", 2);
        ImportResult result = Run(invocation.Kind, path, new ImportOptions(invocation.Env, formation, env), invocation.FromDump, env, invocation.MoreFiles);
        if (invocation.Output is string target)
        {
            if (File.Exists(target) && !invocation.Force) throw new CommandException($"{target} exists; --force replaces it", 2);
            File.WriteAllText(target, result.Yaml);
            error.Write(Report(result));
            error.WriteLine($"wrote {target}; start it with `tend start {Path.GetRelativePath(Environment.CurrentDirectory, target)}`");
        }
        else
        {
            output.Write(result.Yaml);
            error.Write(Report(result));
        }
        return 0;
    }

    /// <summary>
    /// The import step of `tend start FILE`: when FILE is another manager's config, its tend.yaml goes
    /// to Output (kept under $TEND_HOME/imported/, docs/import.md) and the report to stderr; when it is
    /// not, <see cref="EngineCommands.NotForeign"/> and nothing is written.
    /// </summary>
    public static int StartImport(StartImportInvocation invocation, TextWriter error)
    {
        if (Importers.Detect(invocation.Source) is not string kind)
        {
            if (invocation.Env is not null)
                throw new CommandException($"--env {invocation.Env} selects a PM2 ecosystem file's env_{invocation.Env}; {invocation.Shown} is not one (a tend.yaml sets env: and env_file: per app)", 2);
            return EngineCommands.NotForeign;
        }
        if (invocation.Env is not null && kind != "pm2")
            throw new CommandException($"--env {invocation.Env} selects a PM2 ecosystem file's env_{invocation.Env}; {invocation.Shown} is a {kind} file, which has no env sections", 2);
        var env = EngineCommandHost.CallerEnvironment();
        ImportResult imported = Run(kind, invocation.Source, new ImportOptions(invocation.Env, BaseEnvironment: env), fromDump: false, env, invocation.MoreSources);
        Directory.CreateDirectory(Path.GetDirectoryName(invocation.Output)!);
        File.WriteAllText(invocation.Output, imported.Yaml);
        error.Write(Report(imported));
        error.WriteLine($"the tend.yaml it became: {invocation.Output} (`tend import {kind} {invocation.Shown}{(invocation.Env is null ? "" : " --env " + invocation.Env)} -o tend.yaml` writes one to keep)");
        return 0;
    }

    private static string DefaultFile(string kind, bool fromDump, IReadOnlyDictionary<string, string> env) => kind switch
    {
        "pm2" when fromDump => Path.Combine(env.GetValueOrDefault("PM2_HOME") ?? Path.Combine(env.GetValueOrDefault("HOME") ?? "/root", ".pm2"), "dump.pm2"),
        "pm2" => File.Exists("ecosystem.config.js") ? "ecosystem.config.js" : File.Exists("ecosystem.config.cjs") ? "ecosystem.config.cjs" : "ecosystem.config.mjs",
        "procfile" => "Procfile",
        "supervisord" => File.Exists("supervisord.conf") ? "supervisord.conf" : "/etc/supervisor/supervisord.conf",
        "systemd" => throw new CommandException("tend import systemd needs the unit file: tend import systemd /etc/systemd/system/NAME.service", 2),
        _ => File.Exists("process-compose.yaml") ? "process-compose.yaml" : "process-compose.yml",
    };


    /// <summary>The JavaScript that prints an ecosystem file's export as JSON (CommonJS or ES module, an object or a function returning one).</summary>
    private const string EvaluateScript =
        "const p=require('path'),u=require('url');" +
        "import(u.pathToFileURL(p.resolve(process.argv[1])).href)" +
        ".then(m=>{let c=m.default??m;if(typeof c==='function')c=c();process.stdout.write(JSON.stringify(c))})" +
        ".catch(e=>{console.error(e&&e.message||String(e));process.exit(1)})";

    /// <param name="more">systemd units imported together with <paramref name="path"/>.</param>
    public static ImportResult Run(string kind, string path, ImportOptions options, bool fromDump, IReadOnlyDictionary<string, string> environment,
        IReadOnlyList<string>? more = null)
    {
        string? evaluated = null;
        if (kind == "pm2" && fromDump)
        {
            string text = File.Exists(path) ? File.ReadAllText(path) : throw new CommandException($"no PM2 dump at {path}", 2);
            evaluated = Importers.DumpToEcosystem(text, environment);
        }
        else if (kind == "pm2" && Path.GetExtension(path) is ".js" or ".cjs" or ".mjs")
        {
            evaluated = EvaluateWithNode(path, environment);
        }
        try
        {
            return more is { Count: > 0 } ? Importers.ImportSystemdUnits([path, .. more], options) : Importers.Import(kind, path, evaluated, options);
        }
        catch (ImportException e)
        {
            throw new CommandException("cannot import: " + e.Message, 2);
        }
        catch (Config.ConfigException e)
        {
            throw new CommandException("the imported config does not validate (please report it with the source file)", 1, [.. e.Errors.Select(x => x.ToString())]);
        }
    }

    private static string EvaluateWithNode(string path, IReadOnlyDictionary<string, string> environment)
    {
        if (Config.ExecutableLookup.Find("node", "/", environment.GetValueOrDefault("PATH"), out string? node) != Config.ExecutableLookup.Outcome.Found || node is null)
            throw new CommandException($"{Path.GetFileName(path)} is JavaScript and needs node to be read: install Node.js, or export it as JSON (`node -e \"console.log(JSON.stringify(require('./{Path.GetFileName(path)}')))\" > ecosystem.json`) and import that", 2);
        var start = new ProcessStartInfo(node)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(Path.GetFullPath(path))!,
        };
        start.ArgumentList.Add("-e");
        start.ArgumentList.Add(EvaluateScript);
        start.ArgumentList.Add(Path.GetFullPath(path));
        start.Environment.Clear();
        foreach (var (k, v) in environment) start.Environment[k] = v;
        using Process process = Process.Start(start) ?? throw new CommandException("could not start node", 1);
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(30_000))
        {
            process.Kill(entireProcessTree: true);
            throw new CommandException($"node did not finish evaluating {path} within 30 s", 1);
        }
        if (process.ExitCode != 0) throw new CommandException($"node could not evaluate {path}: {stderr.Result.Trim()}", 2);
        return stdout.Result;
    }

    /// <summary>The report: what was approximated, which defaults were carried over, what was left out and why.</summary>
    public static string Report(ImportResult r)
    {
        var text = new StringBuilder();
        text.Append($"imported {r.Apps.Count} app(s) from {r.Source} ({r.Kind}): {string.Join(", ", r.Apps)}\n");
        void Section(string title, ImportNoteKind kind)
        {
            var notes = r.Notes.Where(n => n.Kind == kind).ToList();
            if (notes.Count == 0) return;
            text.Append(title).Append('\n');
            foreach (ImportNote n in notes) text.Append("  ").Append(n.App).Append(": ").Append(n.Key).Append(": ").Append(n.Why).Append('\n');
        }
        Section("approximated:", ImportNoteKind.Approximated);
        Section("defaults carried over:", ImportNoteKind.DefaultCarried);
        Section("not mapped:", ImportNoteKind.Unmapped);
        return text.ToString();
    }

    /// <summary>Where `tend start` of a foreign file keeps the tend.yaml it made (the daemon reads it from there, and restores from it).</summary>
}
