using System.Text;

namespace Tend.Cli.Monit;

/// <summary>
/// The terminal while monit owns it: the alternate screen (so the shell's scrollback comes back
/// untouched), no cursor, no line wrap, and Ctrl-C delivered as a key instead of SIGINT (so it
/// quits through the same path as q). Disposing puts every one of those back; it runs in a
/// finally, so a daemon error or a bug still leaves a usable terminal.
///
/// Frames are written by cursor address, row by row, in one write: no newline is ever sent, so
/// the screen cannot scroll, and a frame never shows half-drawn.
/// </summary>
internal sealed class MonitTerminal : IDisposable
{
    private const string Enter = "\u001b[?1049h\u001b[?25l\u001b[?7l\u001b[2J";
    private const string Leave = "\u001b[0m\u001b[?7h\u001b[?25h\u001b[?1049l";

    private readonly Stream _out;
    private (int Width, int Height) _drawn;
    private bool _disposed;

    private MonitTerminal(Stream output) => _out = output;

    public static MonitTerminal Open()
    {
        var terminal = new MonitTerminal(Console.OpenStandardOutput());
        terminal.Write(Enter);
        Console.TreatControlCAsInput = true;
        return terminal;
    }

    /// <summary>The size now: .NET refreshes it on SIGWINCH.</summary>
    public static (int Width, int Height) Size
    {
        get
        {
            try
            {
                return (Math.Max(1, Console.WindowWidth), Math.Max(1, Console.WindowHeight));
            }
            catch (IOException)
            {
                return (80, 24); // the terminal went away; the next key read ends the session
            }
        }
    }

    public void Draw(string frame, int width, int height)
    {
        var text = new StringBuilder(frame.Length + height * 10);
        // After a resize the old frame's cells outside the new size would stay: clear first.
        if (_drawn != (width, height)) text.Append("\u001b[2J");
        _drawn = (width, height);
        int row = 1;
        foreach (string line in frame.Split('\n'))
        {
            if (row > height) break;
            // Erase first, then write: erasing after a line that fills the row would take its
            // last cell too, since with wrap off the cursor stays on the last column.
            text.Append("\u001b[").Append(row).Append(";1H\u001b[2K").Append(line).Append("\u001b[0m");
            row++;
        }
        for (; row <= height; row++) text.Append("\u001b[").Append(row).Append(";1H\u001b[K");
        Write(text.ToString());
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        try
        {
            Console.TreatControlCAsInput = false;
        }
        catch (IOException)
        {
            // No terminal left to configure.
        }
        try
        {
            Write(Leave);
        }
        catch (IOException)
        {
            // The terminal is gone (the window closed): nothing to restore.
        }
    }

    private void Write(string text)
    {
        _out.Write(Encoding.UTF8.GetBytes(text));
        _out.Flush();
    }
}
