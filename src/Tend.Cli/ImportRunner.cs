using System.Diagnostics;
using System.Text;
using Tend.Config.Import;

namespace Tend.Cli;

/// <summary>
/// Runs an importer for the CLI (`tend import`, and `tend start` of a PM2, Procfile, supervisord or
/// process-compose file): evaluates a JavaScript ecosystem file with the installed node, and writes
/// the report people read.
/// </summary>
internal static class ImportRunner
{
    /// <summary>The JavaScript that prints an ecosystem file's export as JSON (CommonJS or ES module, an object or a function returning one).</summary>
    private const string EvaluateScript =
        "const p=require('path'),u=require('url');" +
        "import(u.pathToFileURL(p.resolve(process.argv[1])).href)" +
        ".then(m=>{let c=m.default??m;if(typeof c==='function')c=c();process.stdout.write(JSON.stringify(c))})" +
        ".catch(e=>{console.error(e&&e.message||String(e));process.exit(1)})";

    public static ImportResult Run(string kind, string path, ImportOptions options, bool fromDump, IReadOnlyDictionary<string, string> environment)
    {
        string? evaluated = null;
        if (kind == "pm2" && fromDump)
        {
            string text = File.Exists(path) ? File.ReadAllText(path) : throw new CliException($"no PM2 dump at {path}", 2);
            evaluated = Importers.DumpToEcosystem(text, environment);
        }
        else if (kind == "pm2" && Path.GetExtension(path) is ".js" or ".cjs" or ".mjs")
        {
            evaluated = EvaluateWithNode(path, environment);
        }
        try
        {
            return Importers.Import(kind, path, evaluated, options);
        }
        catch (ImportException e)
        {
            throw new CliException("cannot import: " + e.Message, 2);
        }
        catch (Config.ConfigException e)
        {
            throw new CliException("the imported config does not validate (please report it with the source file)", 1, [.. e.Errors.Select(x => x.ToString())]);
        }
    }

    private static string EvaluateWithNode(string path, IReadOnlyDictionary<string, string> environment)
    {
        if (Config.ExecutableLookup.Find("node", "/", environment.GetValueOrDefault("PATH"), out string? node) != Config.ExecutableLookup.Outcome.Found || node is null)
            throw new CliException($"{Path.GetFileName(path)} is JavaScript and needs node to be read: install Node.js, or export it as JSON (`node -e \"console.log(JSON.stringify(require('./{Path.GetFileName(path)}')))\" > ecosystem.json`) and import that", 2);
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
        using Process process = Process.Start(start) ?? throw new CliException("could not start node", 1);
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(30_000))
        {
            process.Kill(entireProcessTree: true);
            throw new CliException($"node did not finish evaluating {path} within 30 s", 1);
        }
        if (process.ExitCode != 0) throw new CliException($"node could not evaluate {path}: {stderr.Result.Trim()}", 2);
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
    public static string GeneratedPath(string home, string source)
    {
        string hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(Path.GetFullPath(source))), 0, 4);
        return Path.Combine(home, "imported", $"{Path.GetFileName(source)}-{hash}.yaml");
    }
}
