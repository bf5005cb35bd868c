using Tend.Api;
using Tend.Io;
using Tend.Processes;
using Tend.Supervision;

namespace Tend.Daemon;

/// <summary>How this daemon was started: what the next version is given again when it takes over.</summary>
internal sealed record DaemonStart(IReadOnlyList<string> Args);

/// <summary>
/// `tend daemon upgrade` (docs/upgrade.md): the daemon becomes the new binary in the same process.
/// The engine stops reading every pipe and writes its state; the pipes, notify sockets, listening
/// sockets and the home's lock are kept open across execve (FD_CLOEXEC cleared) and named in
/// TEND_FDS; the new image adopts the runs by pid and start time and reads on where this one
/// stopped. The apps notice nothing: their parent, their pipes and their sockets stay what they were.
/// </summary>
internal sealed class DaemonUpgrade(Supervisor supervisor, DaemonLock daemonLock, DaemonStart start, ILogger logger)
{
    private int _started;

    /// <summary>Null when <paramref name="request"/> can be carried out; else why not (the daemon goes on as it was).</summary>
    public static string? Check(UpgradeRequest request)
    {
        if (string.IsNullOrWhiteSpace(request.Program) || !Path.IsPathFullyQualified(request.Program))
            return $"program must be an absolute path, not \"{request.Program}\"";
        if (!File.Exists(request.Program)) return $"{request.Program} does not exist";
        if (!Tend.Identity.ProcessIdentity.CanExecute(request.Program)) return $"{request.Program} is not executable";
        foreach (string arg in request.Args)
            if (arg.EndsWith(".dll", StringComparison.Ordinal) && !File.Exists(arg)) return $"{arg} does not exist";
        return null;
    }

    /// <summary>
    /// Runs the new daemon with --check (it prints its version and exits 0) before anything is handed
    /// over: a binary that cannot start is refused while this daemon still holds every pipe. Null when it
    /// ran; else why not.
    /// </summary>
    public static async Task<string?> TryRunAsync(UpgradeRequest request, CancellationToken ct)
    {
        var info = new System.Diagnostics.ProcessStartInfo(request.Program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string arg in request.Args) info.ArgumentList.Add(arg);
        info.ArgumentList.Add("--check");
        try
        {
            using var process = System.Diagnostics.Process.Start(info)!;
            Task<string> stdout = process.StandardOutput.ReadToEndAsync(ct), stderr = process.StandardError.ReadToEndAsync(ct);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(TimeSpan.FromSeconds(30));
            try { await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false); }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                return $"{request.Program} --check did not finish within 30 s";
            }
            string said = (await stdout.ConfigureAwait(false)).Trim();
            if (process.ExitCode != 0 || !said.StartsWith("tend-daemon ", StringComparison.Ordinal))
                return $"{request.Program} --check exited {process.ExitCode}: {((await stderr.ConfigureAwait(false)).Trim() is { Length: > 0 } e ? e : said)}";
            return null;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return $"{request.Program}: {e.Message}";
        }
    }

    /// <summary>Once: hand over and become <paramref name="request"/>'s program. Returns only if that failed, having undone the hand-over.</summary>
    public async Task RunAsync(UpgradeRequest request)
    {
        if (Interlocked.Exchange(ref _started, 1) == 1) return;
        Supervisor.HandOver handOver;
        try
        {
            handOver = await supervisor.HandOverAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or InvalidOperationException)
        {
            UpgradeLog.Failed(logger, ex.Message);
            Volatile.Write(ref _started, 0);
            return;
        }
        var keep = new List<(string Name, System.Runtime.InteropServices.SafeHandle Handle)>(handOver.Descriptors) { ("lock", daemonLock.Handle) };
        string? failure = null;
        try
        {
            foreach (var (_, handle) in keep) Descriptors.SetCloseOnExec(handle, false);
            var env = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (System.Collections.DictionaryEntry e in Environment.GetEnvironmentVariables()) env[(string)e.Key] = (string?)e.Value ?? "";
            env[InheritedDescriptors.HandoverVariable] = string.Join(':', keep.Select(k => $"{k.Name}={(int)k.Handle.DangerousGetHandle()}"));
            var argv = new List<string> { request.Program };
            argv.AddRange(request.Args);
            argv.AddRange(start.Args);
            UpgradeLog.Replacing(logger, request.Program, handOver.Instances, keep.Count);
            failure = ProcessImage.Replace(request.Program, argv, env);
        }
        catch (IOException ex)
        {
            failure = ex.Message;
        }
        // Still here: execve failed. Everything goes on as before.
        foreach (var (_, handle) in keep)
        {
            try { Descriptors.SetCloseOnExec(handle, true); } catch (IOException) { }
        }
        handOver.Abandon();
        UpgradeLog.Failed(logger, failure ?? "unknown");
        Volatile.Write(ref _started, 0);
    }
}

internal static partial class UpgradeLog
{
    [LoggerMessage(2120, LogLevel.Warning, "upgrading: becoming {Program}, with {Instances} running instances and {Descriptors} descriptors kept open")]
    public static partial void Replacing(ILogger logger, string program, int instances, int descriptors);

    [LoggerMessage(2121, LogLevel.Error, "upgrade failed, carrying on as before: {Error}")]
    public static partial void Failed(ILogger logger, string error);

    [LoggerMessage(2122, LogLevel.Warning, "handed-over descriptors: {Problem}")]
    public static partial void InheritedProblem(ILogger logger, string problem);

    [LoggerMessage(2123, LogLevel.Information, "took over from the previous daemon ({Source}): {Count} descriptors")]
    public static partial void Inherited(ILogger logger, string source, int count);
}
