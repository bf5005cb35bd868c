using System.CommandLine;
using Tend.Api;

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
        string path = Path.GetFullPath(parseResult.GetValue(_file) ?? "tend.yaml", Context.CurrentDirectory);
        if (!File.Exists(path)) throw new CliException($"no such file: {path}", 2);
        string? output = parseResult.GetValue(_output) is string dir ? Path.GetFullPath(dir, Context.CurrentDirectory) : null;
        // The config loader and the exporter are the engine's: the daemon's binary writes the manifests (EngineHandoff).
        return Task.FromResult(EngineHandoff.Replace(EngineCommands.Export,
            new ExportInvocation(parseResult.GetValue(_target)!, path, parseResult.GetValue(_images) ?? [], output,
                parseResult.GetValue(_namespace), parseResult.GetValue(_kustomize), parseResult.GetValue(_configInImage)!),
            EngineCommandJsonContext.Default.ExportInvocation));
    }
}
