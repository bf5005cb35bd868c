namespace Tend.Cli.Rendering;

/// <summary>The few SGR colours the CLI uses; hand-rolled so rendering loads nothing.</summary>
internal static class Ansi
{
    public const string Reset = "\u001b[0m";
    public const string Bold = "\u001b[1m";
    public const string Red = "\u001b[31m";
    public const string Green = "\u001b[32m";
    public const string Yellow = "\u001b[33m";
    public const string Cyan = "\u001b[36m";
    public const string Grey = "\u001b[90m";

    public static string Paint(string text, string? sgr, bool enabled) =>
        enabled && sgr is not null ? sgr + text + Reset : text;

    /// <summary>The colour of an instance status: green running, red given up, yellow in between, grey stopped.</summary>
    public static string? ForStatus(string status) => status switch
    {
        "online" => Green,
        "errored" or "blocked" => Red,
        "waiting" or "launching" or "stopping" => Yellow,
        "stopped" => Grey,
        _ => null,
    };
}
