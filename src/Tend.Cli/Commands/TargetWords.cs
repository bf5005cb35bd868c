using System.CommandLine;
using System.Globalization;
using Tend.Api;
using Tend.Cli.Rendering;

namespace Tend.Cli.Commands;

/// <summary>The target words of the daemon's commands (all, an app, app#i, or an id), matched against list rows on the CLI's side.</summary>
internal static class TargetWords
{
    /// <summary>The target argument of a command that means every app when none is named (pid, env, logs).</summary>
    public static Argument<string> AllByDefault() => new("target")
    {
        Description = "all (the default), an app name, app#instance, or a numeric id",
        Arity = ArgumentArity.ZeroOrOne,
        DefaultValueFactory = _ => "all",
    };

    /// <summary>
    /// The targets of a command that acts (stop, restart, reload, delete…): one or more, as PM2's
    /// `pm2 stop api worker`; <paramref name="defaultTarget"/> is what none means, or null when one is required.
    /// </summary>
    public static Argument<string[]> Several(string? defaultTarget, string description = "all, an app name, app#instance, or a numeric id; several may be named")
    {
        var argument = new Argument<string[]>("target") { Description = description, Arity = ArgumentArity.OneOrMore };
        if (defaultTarget is not null)
        {
            argument.Arity = ArgumentArity.ZeroOrMore;
            argument.DefaultValueFactory = _ => [defaultTarget];
        }
        return argument;
    }

    /// <summary>
    /// The targets to act on, in the order given, each once ("all" among them means all alone). Several
    /// targets are matched against the list first, so a typo in one acts on none (exit 1 naming it)
    /// rather than on the ones before it; one target is left to the daemon, which says the same.
    /// </summary>
    public static async Task<string[]> CheckedAsync(DaemonClient client, string[] targets, CancellationToken ct)
    {
        string[] distinct = [.. targets.Distinct(StringComparer.Ordinal)];
        if (distinct.Contains("all")) return ["all"];
        if (distinct.Length < 2) return distinct;
        InstanceInfo[] rows = await client.GetAsync(ApiRoutes.List, json => InstanceRows.Read(json.Span), ct).ConfigureAwait(false);
        string[] unknown = [.. distinct.Where(t => !rows.Any(r => Names(r, t)))];
        if (unknown.Length > 0) throw NothingNamed(rows, string.Join("\", \"", unknown), plural: unknown.Length > 1, nothingDone: true);
        // `stop web web#1`: web#1 is in web already; acting on it again would restart it twice.
        HashSet<int>[] named = [.. distinct.Select(t => rows.Where(r => Names(r, t)).Select(r => r.Id).ToHashSet())];
        return [.. distinct.Where((_, i) => !Enumerable.Range(0, distinct.Length).Any(j => j != i
            && named[i].IsSubsetOf(named[j]) && (!named[j].IsSubsetOf(named[i]) || j < i)))];
    }

    /// <summary>
    /// Runs <paramref name="act"/> for each target in turn. A target the daemon refuses (a reload already
    /// under way) is reported and the rest still run, as PM2 does; the exit code is the worst one.
    /// </summary>
    public static async Task<int> ForEachAsync(string[] targets, TextWriter error, Func<string, Task> act)
    {
        int exitCode = 0;
        foreach (string target in targets)
        {
            try
            {
                await act(target).ConfigureAwait(false);
            }
            catch (CliException ex) when (targets.Length > 1 && ex is not DaemonNotRunningException)
            {
                TendCommand.WriteError(error, new CliException($"{target}: {ex.Message}", ex.ExitCode, ex.Details));
                exitCode = Math.Max(exitCode, ex.ExitCode);
            }
        }
        return exitCode;
    }

    public static bool Names(InstanceInfo row, string target)
    {
        if (target == "all" || target == row.Name) return true;
        if (DescribeCommand.TryParseInstance(target, out string app, out int instance)) return app == row.Name && instance == row.Instance;
        return int.TryParse(target, NumberStyles.None, CultureInfo.InvariantCulture, out int id) && id == row.Id;
    }

    /// <summary>Exit 1, with the apps there are, for a target that names no row.</summary>
    public static CliException NothingNamed(IReadOnlyList<InstanceInfo> rows, string target, bool plural = false, bool nothingDone = false)
    {
        string[] apps = [.. rows.Select(r => r.Name).Distinct(StringComparer.Ordinal)];
        List<string> details = [apps.Length > 0 ? "apps: " + string.Join(", ", apps) : "no apps are running"];
        if (nothingDone) details.Add("nothing was done to the others");
        return new CliException(plural ? $"no apps or instances \"{target}\"" : $"no app or instance \"{target}\"", 1, details);
    }
}
