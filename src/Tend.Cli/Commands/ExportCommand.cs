using System.CommandLine;
using Tend.Config;
using Tend.Export;

namespace Tend.Cli.Commands;

/// <summary>`tend export kubernetes [tend.yaml] --image app=REF … [-o DIR] [--namespace N] [--kustomize]` (docs/kubernetes.md).</summary>
internal sealed class ExportCommand : TendCommand
{
    private readonly Argument<string> _target = new("target") { Description = "What to export to: kubernetes" };
    private readonly Argument<string?> _file = new("config") { Description = "The tend.yaml (default: ./tend.yaml)", Arity = ArgumentArity.ZeroOrOne };
    private readonly Option<string[]> _images = new("--image") { Description = "The container image of an app, as app=registry/name:tag (repeat per app)", HelpName = "app=REF", AllowMultipleArgumentsPerToken = false };
    private readonly Option<string?> _output = new("--output", "-o") { Description = "Write one file per app into this directory (default: print the manifests)", HelpName = "dir" };
    private readonly Option<string?> _namespace = new("--namespace", "-n") { Description = "The namespace of every object", HelpName = "N" };
    private readonly Option<bool> _kustomize = new("--kustomize") { Description = "Also write a kustomization.yaml listing the files" };
    private readonly Option<string> _configInImage = new("--config-in-image")
    {
        Description = "Where the image holds the tend.yaml, for apps that run under `tend run` in their pod",
        DefaultValueFactory = _ => "/etc/tend/tend.yaml",
        HelpName = "path",
    };

    public ExportCommand(CliContext context) : base("export", "Turn a tend.yaml into Kubernetes manifests (Deployments, Services, CronJobs, probes, …), with a report of what was approximated.", context)
    {
        Add(_target);
        Add(_file);
        Add(_images);
        Add(_output);
        Add(_namespace);
        Add(_kustomize);
        Add(_configInImage);
        _target.AcceptOnlyFromAmong("kubernetes");
    }

    protected override Task<int> ExecuteAsync(ParseResult parseResult, CancellationToken ct)
    {
        var env = Context.GetEnvironment();
        string path = Path.GetFullPath(parseResult.GetValue(_file) ?? "tend.yaml", Context.CurrentDirectory);
        if (!File.Exists(path)) throw new CliException($"no such file: {path}", 2);
        var images = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string image in parseResult.GetValue(_images) ?? [])
        {
            int eq = image.IndexOf('=');
            if (eq <= 0 || eq == image.Length - 1) throw new CliException($"--image {image}: expected app=REF (e.g. api=registry.example.com/api:1.4)", 2);
            images[image[..eq]] = image[(eq + 1)..];
        }
        if (parseResult.GetValue(_namespace) is { } ns && KubernetesExporter.DnsNameOf(ns) != ns)
            throw new CliException($"--namespace {ns}: not a Kubernetes name (lower case letters, digits and '-')", 2);

        TendConfig config;
        try
        {
            config = ConfigLoader.Load(path, env);
        }
        catch (ConfigException ex)
        {
            throw new CliException("invalid config", 2, [.. ex.Errors.Select(e => e.ToString())]);
        }
        KubernetesExport export = KubernetesExporter.Export(config, new KubernetesExportOptions(
            images, env, parseResult.GetValue(_namespace), parseResult.GetValue(_kustomize), parseResult.GetValue(_configInImage)!));

        TextWriter output = Out(parseResult), error = Error(parseResult);
        if (parseResult.GetValue(_output) is string dir)
        {
            string target = Path.GetFullPath(dir, Context.CurrentDirectory);
            Directory.CreateDirectory(target);
            foreach (var (file, text) in export.Files) File.WriteAllText(Path.Combine(target, file), text);
            error.WriteLine($"wrote {export.Files.Count} file(s) to {target}: {string.Join(", ", export.Files.Select(f => f.Key))}");
        }
        else
        {
            for (int i = 0; i < export.Files.Count; i++)
            {
                if (export.Files[i].Key == "kustomization.yaml") continue;
                if (i > 0) output.Write("---\n");
                output.Write(export.Files[i].Value);
            }
        }
        if (export.Notes.Count > 0)
        {
            error.WriteLine($"{export.Notes.Count} thing(s) Kubernetes does differently (docs/kubernetes.md):");
            foreach (ExportNote note in export.Notes) error.WriteLine("  " + note);
        }
        return Task.FromResult(0);
    }
}
