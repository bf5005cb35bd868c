using Tend.Api;

namespace Tend.Cli.Rendering;

/// <summary>One line of `tend logs`: <c>web#0 out | text</c>, the prefix coloured by stream on a terminal.</summary>
internal static class LogLineText
{
    public static string Render(LogLineDto line, bool color)
    {
        string prefix = Format.InstanceName(line.App, line.Instance) + " " + line.Stream + " |";
        string? sgr = line.Stream == "err" ? Ansi.Red : Ansi.Green;
        return Ansi.Paint(prefix, sgr, color) + " " + line.Text;
    }
}
