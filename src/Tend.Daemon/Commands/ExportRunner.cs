using Tend.Api;
using Tend.Config;
using Tend.Export;

namespace Tend.Daemon.Commands;

/// <summary>`tend export kubernetes [tend.yaml]`: the manifests on stdout or one file per app, the report on stderr (docs/kubernetes.md).</summary>
internal static class ExportRunner
{
    public static int Export(ExportInvocation invocation, TextWriter output, TextWriter error)
    {
        if (invocation.Target != "kubernetes") throw new CommandException($"cannot export to {invocation.Target}: kubernetes is the one target", 2);
        var env = EngineCommandHost.CallerEnvironment();
        string path = invocation.ConfigPath;
        if (!File.Exists(path)) throw new CommandException($"no such file: {path}", 2);
        var images = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string image in invocation.Images)
        {
            int eq = image.IndexOf('=');
            if (eq <= 0 || eq == image.Length - 1) throw new CommandException($"--image {image}: expected app=REF (e.g. api=registry.example.com/api:1.4)", 2);
            images[image[..eq]] = image[(eq + 1)..];
        }
        if (invocation.Namespace is { } ns && KubernetesExporter.DnsNameOf(ns) != ns)
            throw new CommandException($"--namespace {ns}: not a Kubernetes name (lower case letters, digits and '-')", 2);

        TendConfig config;
        try
        {
            config = ConfigLoader.Load(path, env);
        }
        catch (ConfigException ex)
        {
            throw new CommandException("invalid config", 2, [.. ex.Errors.Select(e => e.ToString())]);
        }
        KubernetesExport export = KubernetesExporter.Export(config, new KubernetesExportOptions(
            images, env, invocation.Namespace, invocation.Kustomize, invocation.ConfigInImage));

        if (invocation.Output is string target)
        {
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
        return 0;
    }
}
