using System.CommandLine;
using System.Diagnostics;
using Tend.Api;

namespace Tend.Cli.Commands;

/// <summary>
/// `tend daemon upgrade` (and `tend update`, PM2's name): the running daemon becomes this tend's daemon
/// binary in place, handing its apps' pipes and sockets over, so no app restarts (docs/upgrade.md).
/// Prints the pids before and after; exits 1 if an instance did not come through with its pid.
/// </summary>
internal sealed class UpgradeCommand : TendCommand
{
    private static readonly TimeSpan s_comeBack = TimeSpan.FromSeconds(60);

    public UpgradeCommand(CliContext context, string name = "upgrade")
        : base(name, "Replace the running daemon with this version's, keeping every app running (same pids, no lost log line).", context)
    {
    }

    protected override async Task<int> ExecuteAsync(ParseResult parseResult, CancellationToken ct)
    {
        TextWriter output = Out(parseResult);
        using var client = Context.CreateClient(autoStart: false);
        PingInfo before = await client.GetAsync(ApiRoutes.Ping, TendJsonContext.Default.PingInfo, ct).ConfigureAwait(false);
        InstanceInfo[] listed = await client.GetAsync(ApiRoutes.List, TendJsonContext.Default.InstanceInfoArray, ct).ConfigureAwait(false);

        (string program, IReadOnlyList<string> args) = DaemonLauncher.LocateDaemonProgram(Environment.GetEnvironmentVariable("PATH"));
        var clock = Stopwatch.StartNew();
        UpgradeAnswer answer = await client.PostAsync(ApiRoutes.Upgrade, new UpgradeRequest(program, args),
            TendJsonContext.Default.UpgradeRequest, TendJsonContext.Default.UpgradeAnswer, ct).ConfigureAwait(false);
        output.WriteLine(answer.Message);

        // The same pid answers again once the new image listens: its uptime starts after our request.
        PingInfo? after = null;
        while (clock.Elapsed < s_comeBack)
        {
            await Task.Delay(100, ct).ConfigureAwait(false);
            try
            {
                using var again = Context.CreateClient(autoStart: false);
                PingInfo ping = await again.GetAsync(ApiRoutes.Ping, TendJsonContext.Default.PingInfo, ct).ConfigureAwait(false);
                if (ping.UptimeMs < clock.ElapsedMilliseconds) { after = ping; break; }
            }
            catch (CliException) { /* between the images: not listening yet */ }
        }
        if (after is null)
            throw new CliException($"the daemon did not come back within {s_comeBack.TotalSeconds:0}s after the hand-over", 1, ["see daemon.log in " + Context.Home]);

        using var final = Context.CreateClient(autoStart: false);
        InstanceInfo[] now = await final.GetAsync(ApiRoutes.List, TendJsonContext.Default.InstanceInfoArray, ct).ConfigureAwait(false);
        var running = listed.Where(i => i.Pid is not null).ToList();
        var kept = running.Where(b => now.Any(a => a.Id == b.Id && a.Pid == b.Pid)).ToList();
        var changed = running.Except(kept).ToList();
        output.WriteLine($"daemon pid {after.Pid} (was {before.Pid}), version {before.Version} → {after.Version}, back in {clock.Elapsed.TotalMilliseconds:0} ms");
        output.WriteLine($"{kept.Count} of {running.Count} running instances carried over with their pids" + (changed.Count == 0 ? ", none restarted" : ""));
        foreach (InstanceInfo c in changed)
        {
            int? pid = now.FirstOrDefault(a => a.Id == c.Id)?.Pid;
            output.WriteLine($"  {c.Name}#{c.Instance}: pid {c.Pid} → {(pid is int p ? p.ToString(System.Globalization.CultureInfo.InvariantCulture) : "none")} (see tend describe {c.Name})");
        }
        return changed.Count == 0 ? 0 : 1;
    }

}
