using System.Diagnostics;
using System.Text.Json;
using Tend.Tests.Support;

namespace Tend.Tests.Integration;

/// <summary>
/// TEND_HOME on a small tmpfs that fills up and is freed again: every command keeps working,
/// nothing is orphaned, and state.json and daemon.log come out valid.
/// </summary>
public sealed class DiskFullTests : IAsyncLifetime
{
    private readonly string _mount = Directory.CreateTempSubdirectory("tend-diskfull-").FullName;
    private string Home => Path.Combine(_mount, "home");
    private bool _mounted;

    public async Task InitializeAsync()
    {
        if (!Environment.IsPrivilegedProcess) return;
        _mounted = await RunAsync("mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", _mount) == 0;
        if (_mounted) Directory.CreateDirectory(Home, (UnixFileMode)0x1C0);
    }

    public async Task DisposeAsync()
    {
        if (_mounted)
        {
            await RunCliAsync("kill");
            foreach (int p in ProcFs.WithEnvironment("TEND_HOME", Home)) ProcFs.Kill(p, 9);
            await Task.Delay(200);
            await RunAsync("umount", "-l", _mount);
        }
        try { Directory.Delete(_mount, recursive: true); } catch (IOException) { }
    }

    [Fact]
    public async Task FillAndFree_CommandsWork_NoOrphans_StateAndLogValid()
    {
        if (!_mounted) return; // needs root to mount a tmpfs
        string config = Path.Combine(_mount, "tend.yaml");
        await File.WriteAllTextAsync(config, """
            apps:
              chatty: { run: sh -c 'while true; do echo line; sleep 0.05; done', instances: 2 }
              quiet: { run: sleep 600 }
            """);
        Assert.Equal(0, (await RunCliAsync("start", config)).Code);

        // Fill the filesystem to the last block.
        string filler = Path.Combine(_mount, "filler");
        await RunAsync("dd", "if=/dev/zero", $"of={filler}", "bs=4k");
        await Task.Delay(500);

        // Everything still answers while the disk is full.
        Assert.Equal(0, (await RunCliAsync("restart", "chatty")).Code);
        Assert.Equal(0, (await RunCliAsync("stop", "quiet")).Code);
        Assert.Equal(0, (await RunCliAsync("start", "quiet")).Code);
        var (listCode, listJson) = await RunCliAsync("list", "--json");
        Assert.Equal(0, listCode);
        Assert.Equal(3, JsonDocument.Parse(listJson).RootElement.GetArrayLength());

        // Space returns: the daemon recovers by itself (state saves are retried).
        File.Delete(filler);
        Assert.Equal(0, (await RunCliAsync("restart", "all")).Code);
        await Eventually.TrueAsync(() => File.Exists(Path.Combine(Home, "state.json")), "state.json written once there is room", TimeSpan.FromSeconds(40));
        using (JsonDocument state = JsonDocument.Parse(await File.ReadAllBytesAsync(Path.Combine(Home, "state.json"))))
            Assert.Equal(2, state.RootElement.GetProperty("apps").GetArrayLength());
        foreach (string line in File.ReadLines(Path.Combine(Home, "daemon.log")).Where(l => l.Length > 0))
            JsonDocument.Parse(line).Dispose(); // no torn line

        // Every process under this home is one the daemon tracks (or a child of one). Read until it
        // holds: a shell's short-lived child may be between fork and exit at the moment of a look;
        // an orphan would stay.
        int daemon = int.Parse(File.ReadAllText(Path.Combine(Home, "daemon.pid")).Trim());
        await Eventually.ReturnsAsync(async () =>
        {
            var (_, after) = await RunCliAsync("list", "--json");
            var tracked = JsonDocument.Parse(after).RootElement.EnumerateArray()
                .Where(e => e.GetProperty("pid").ValueKind == JsonValueKind.Number).Select(e => e.GetProperty("pid").GetInt32()).ToHashSet();
            return ProcFs.WithEnvironment("TEND_HOME", Home).Where(p => p != daemon && !tracked.Contains(p) && !tracked.Contains(ProcFsParent(p))).ToList();
        }, strays => strays.Count == 0, "no process outside the daemon's tracked instances", TimeSpan.FromSeconds(15));
        Assert.Equal(0, (await RunCliAsync("kill")).Code);
        await Eventually.TrueAsync(() => ProcFs.WithEnvironment("TEND_HOME", Home).Count == 0, "nothing left after kill");
    }

    private static int ProcFsParent(int pid)
    {
        try
        {
            string stat = File.ReadAllText($"/proc/{pid}/stat");
            return int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1]);
        }
        catch (IOException) { return 0; }
    }

    private async Task<(int Code, string Stdout)> RunCliAsync(params string[] args)
    {
        var psi = new ProcessStartInfo(TestPaths.Cli) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in args) psi.ArgumentList.Add(a);
        psi.Environment["TEND_HOME"] = Home;
        using Process p = Process.Start(psi)!;
        Task<string> stdout = p.StandardOutput.ReadToEndAsync();
        _ = p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(90));
        return (p.ExitCode, await stdout);
    }

    private static async Task<int> RunAsync(string program, params string[] args)
    {
        var psi = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in args) psi.ArgumentList.Add(a);
        using Process p = Process.Start(psi)!;
        _ = p.StandardOutput.ReadToEndAsync();
        _ = p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        return p.ExitCode;
    }
}
