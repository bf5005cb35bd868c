using System.CommandLine;
using System.Globalization;
using Tend.Api;

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

    public static bool Names(InstanceInfo row, string target)
    {
        if (target == "all" || target == row.Name) return true;
        if (DescribeCommand.TryParseInstance(target, out string app, out int instance)) return app == row.Name && instance == row.Instance;
        return int.TryParse(target, NumberStyles.None, CultureInfo.InvariantCulture, out int id) && id == row.Id;
    }

    /// <summary>Exit 1, with the apps there are, for a target that names no row.</summary>
    public static CliException NothingNamed(IReadOnlyList<InstanceInfo> rows, string target)
    {
        string[] apps = [.. rows.Select(r => r.Name).Distinct(StringComparer.Ordinal)];
        return new CliException($"no app or instance \"{target}\"", 1, apps.Length > 0 ? ["apps: " + string.Join(", ", apps)] : ["no apps are running"]);
    }
}
