using System.Globalization;
using System.Text.Json;
using Tend.Api;
using Tend.Config;

namespace Tend.Daemon.Commands;

/// <summary>
/// `tend check [FILE…]`: each config loaded exactly as `tend start` would load it, and nothing started,
/// written or asked of a daemon (as `nginx -t` or `systemd-analyze verify`, for CI and before a deploy).
/// What a file declares goes to stdout, one line per file; its errors, with their lines, to stderr.
/// Exit 2 when any file is invalid. Whether this host can enforce `resources:` is not judged here (no
/// cgroup is touched): `tend doctor` says, and the start refuses what it cannot enforce.
/// </summary>
internal static class CheckRunner
{
    public static int Check(CheckInvocation invocation, TextWriter output, TextWriter error)
    {
        if (invocation.Paths.Count == 0) throw new CommandException("tend check: no file to check", 2);
        var env = EngineCommandHost.CallerEnvironment();
        if (invocation.Json) return CheckJson(invocation.Paths, env, output);
        int invalid = 0;
        foreach (string path in invocation.Paths)
        {
            if (Tend.Config.Import.Importers.Detect(path) is string kind)
            {
                invalid++;
                error.WriteLine($"error: {path}: a {kind} config, not a tend.yaml: `tend import {kind} {path}` converts it and says what it could not map (tend start takes it as it is)");
                continue;
            }
            try
            {
                output.WriteLine($"{path}: ok: {Summary(ConfigLoader.Load(path, env))}");
            }
            catch (ConfigException ex)
            {
                invalid++;
                error.WriteLine($"error: {path}: invalid config");
                foreach (ConfigError e in ex.Errors) error.WriteLine("  " + e);
            }
        }
        return invalid == 0 ? 0 : 2;
    }

    /// <summary>
    /// `tend check --json`: an array with one object per file, in order, for CI and editors:
    /// {"file", "ok", "kind": "tend" or the foreign manager, "apps": [{"name", "instances"}], "jobs",
    /// "supervisors", "errors": [{"file", "line", "column", "field", "message"}]}. Exit 2 if one is not ok.
    /// </summary>
    private static int CheckJson(IReadOnlyList<string> paths, IReadOnlyDictionary<string, string> env, TextWriter output)
    {
        int invalid = 0;
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartArray();
            foreach (string path in paths)
            {
                json.WriteStartObject();
                json.WriteString("file", path);
                string? foreign = Tend.Config.Import.Importers.Detect(path);
                TendConfig? config = null;
                IReadOnlyList<ConfigError> errors = [];
                if (foreign is not null)
                    errors = [new ConfigError(path, 0, 0, "", $"a {foreign} config, not a tend.yaml: `tend import {foreign} {path}` converts it")];
                else
                {
                    try { config = ConfigLoader.Load(path, env); }
                    catch (ConfigException ex) { errors = ex.Errors; }
                }
                if (config is null) invalid++;
                json.WriteBoolean("ok", config is not null);
                json.WriteString("kind", foreign ?? "tend");
                json.WriteStartArray("apps");
                foreach (AppSpec app in config?.Apps.Where(a => a.Job is null) ?? [])
                {
                    json.WriteStartObject();
                    json.WriteString("name", app.Name);
                    json.WriteNumber("instances", app.Instances);
                    json.WriteEndObject();
                }
                json.WriteEndArray();
                json.WriteStartArray("jobs");
                foreach (AppSpec job in config?.Apps.Where(a => a.Job is not null) ?? []) json.WriteStringValue(job.Name);
                json.WriteEndArray();
                json.WriteStartArray("supervisors");
                foreach (var supervisor in config?.Tree.Supervisors ?? []) json.WriteStringValue(supervisor.Name);
                json.WriteEndArray();
                json.WriteStartArray("errors");
                foreach (ConfigError e in errors)
                {
                    json.WriteStartObject();
                    json.WriteString("file", e.File);
                    if (e.Line > 0) json.WriteNumber("line", e.Line); else json.WriteNull("line");
                    if (e.Line > 0) json.WriteNumber("column", e.Column); else json.WriteNull("column");
                    json.WriteString("field", e.Field);
                    json.WriteString("message", e.Message);
                    json.WriteEndObject();
                }
                json.WriteEndArray();
                json.WriteEndObject();
            }
            json.WriteEndArray();
        }
        output.WriteLine(System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan));
        return invalid == 0 ? 0 : 2;
    }

    /// <summary>"2 apps (web ×2, worker), 1 job (nightly), 1 supervisor (backend)".</summary>
    internal static string Summary(TendConfig config)
    {
        static string Count(int n, string one) => n.ToString(CultureInfo.InvariantCulture) + " " + one + (n == 1 ? "" : "s");
        AppSpec[] apps = [.. config.Apps.Where(a => a.Job is null)];
        AppSpec[] jobs = [.. config.Apps.Where(a => a.Job is not null)];
        var parts = new List<string>
        {
            $"{Count(apps.Length, "app")}{(apps.Length == 0 ? "" : " (" + string.Join(", ", apps.Select(a => a.Instances == 1 ? a.Name : $"{a.Name} ×{a.Instances.ToString(CultureInfo.InvariantCulture)}")) + ")")}",
        };
        if (jobs.Length > 0) parts.Add($"{Count(jobs.Length, "job")} ({string.Join(", ", jobs.Select(j => j.Name))})");
        if (config.Tree.Supervisors.Count > 0) parts.Add($"{Count(config.Tree.Supervisors.Count, "supervisor")} ({string.Join(", ", config.Tree.Supervisors.Select(s => s.Name))})");
        return string.Join(", ", parts);
    }
}
