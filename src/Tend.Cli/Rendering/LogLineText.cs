using Tend.Api;

namespace Tend.Cli.Rendering;

/// <summary>One line of `tend logs`: <c>web#0 out | text</c>, the prefix coloured by stream on a terminal.</summary>
internal static class LogLineText
{
    /// <param name="terminal">Output goes to a terminal: the app's text is escaped (<see cref="Format.Printable"/>);
    /// redirected to a file or a pipe, it stays byte for byte what the app wrote.</param>
    public static string Render(LogLineDto line, bool color, bool terminal = false)
    {
        string prefix = Format.InstanceName(line.App, line.Instance) + " " + line.Stream + " |";
        string? sgr = line.Stream == "err" ? Ansi.Red : Ansi.Green;
        return Ansi.Paint(prefix, sgr, color) + " " + (terminal ? Format.Printable(line.Text) : line.Text);
    }

    /// <summary>`tend logs --raw`: the app's text alone (escaped on a terminal, as above).</summary>
    public static string RenderRaw(LogLineDto line, bool terminal = false) => terminal ? Format.Printable(line.Text) : line.Text;
}
