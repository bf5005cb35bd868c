using System.Net;
using System.Text;
using Tend.Config;
using Tend.Tests.Support;

namespace Tend.Tests.Config;

/// <summary>
/// The corpus of malformed configs (<see cref="MalformedConfigCorpus"/>): the loader answers every
/// one with a located error or a clear message, never another exception; through a real daemon
/// each is a 4xx, never a 500, and the daemon and a running app are undisturbed.
/// </summary>
public sealed class MalformedConfigTests : IAsyncLifetime
{
    private static readonly Dictionary<string, string> s_env = new() { ["PATH"] = "/usr/bin:/bin", ["HOME"] = "/root" };
    private readonly TendHome _home = new();

    public Task InitializeAsync() => Task.CompletedTask;
    public async Task DisposeAsync() => await _home.DisposeAsync();

    private List<(string Name, string Path)> WriteCorpus()
    {
        string dir = Path.Combine(_home.Dir, "corpus");
        Directory.CreateDirectory(dir);
        var files = new List<(string, string)>();
        foreach (var (name, bytes) in MalformedConfigCorpus.Generate())
        {
            string path = Path.Combine(dir, name + ".yaml");
            File.WriteAllBytes(path, bytes);
            files.Add((name, path));
        }
        return files;
    }

    [Fact]
    public void Loader_EveryMalformedConfig_LocatedErrorOrClearMessage_NeverAnotherException()
    {
        var files = WriteCorpus();
        Assert.True(files.Count >= 300, $"only {files.Count} cases");
        var failures = new List<string>();
        int refused = 0;
        foreach (var (name, path) in files)
        {
            try
            {
                ConfigLoader.Load(path, s_env);
            }
            catch (ConfigException ex)
            {
                refused++;
                foreach (ConfigError e in ex.Errors)
                {
                    bool located = e.Line >= 1 && e.File.Length > 0;
                    if (!located && e.Message.Length < 10) failures.Add($"{name}: an error without a location or a clear message: {e}");
                }
            }
            catch (Exception ex)
            {
                failures.Add($"{name}: {ex.GetType().Name}: {ex.Message}");
            }
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
        Assert.True(refused > files.Count * 3 / 4, $"only {refused} of {files.Count} refused");
    }

    [Fact]
    public async Task Daemon_EveryMalformedConfig_Is4xx_TheDaemonAndARunningAppUndisturbed()
    {
        await _home.OkAsync("start", "--name", "keep", "--", "sleep", "600");
        int pid = (await _home.ListAsync()).Single().Pid!.Value;
        int daemon = _home.DaemonPid!.Value;
        using HttpClient api = _home.ApiClient();

        var refusedInProcess = WriteCorpus().Where(f =>
        {
            try { ConfigLoader.Load(f.Path, s_env); return false; }
            catch (ConfigException) { return true; }
        }).ToList();

        var failures = new List<string>();
        foreach (var (name, path) in refusedInProcess)
        {
            string body = System.Text.Json.JsonSerializer.Serialize(new { config_path = path, env = s_env });
            using var response = await api.PostAsync("/v1/start", new StringContent(body, Encoding.UTF8, "application/json"));
            if ((int)response.StatusCode is not (400 or 422))
                failures.Add($"{name}: HTTP {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));

        Assert.True(ProcFs.IsRunning(daemon));
        var only = Assert.Single(await _home.ListAsync());
        Assert.Equal(("keep", pid, "online"), (only.Name, only.Pid!.Value, only.Status));

        // A few through the CLI: exit 2 and the file's name in the message.
        foreach (var (_, path) in refusedInProcess.Take(15))
        {
            CliResult r = await _home.RunAsync("start", path);
            Assert.True(r.ExitCode == 2, r.ToString());
            Assert.Contains("error", r.Stderr);
        }
    }
}
