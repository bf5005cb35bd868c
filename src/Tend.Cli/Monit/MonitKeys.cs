namespace Tend.Cli.Monit;

internal enum MonitKey { None, Up, Down, First, Last, Restart, Stop, Reload, Quit }

/// <summary>
/// The keys monit answers to. Arrows and j/k move (vi users), Home/End jump, r s l act on the
/// selected app (restart, stop, reLoad: `s` stop matches `tend stop`, and reload takes `l`
/// because `r` is the everyday restart), q and Ctrl-C quit. Not Esc: a
/// terminal that sends an arrow slowly would look like Esc followed by letters, and quit.
/// </summary>
internal static class MonitKeys
{
    public const string Help = "↑↓ select  r restart  s stop  l reload  q quit";

    public static MonitKey Map(ConsoleKeyInfo key)
    {
        if (key.Key == ConsoleKey.C && (key.Modifiers & ConsoleModifiers.Control) != 0) return MonitKey.Quit;
        switch (key.Key)
        {
            case ConsoleKey.UpArrow: return MonitKey.Up;
            case ConsoleKey.DownArrow: return MonitKey.Down;
            case ConsoleKey.Home: return MonitKey.First;
            case ConsoleKey.End: return MonitKey.Last;
        }
        return key.KeyChar switch
        {
            '\u0003' => MonitKey.Quit, // Ctrl-C as a character, with the terminal's ISIG off
            'k' => MonitKey.Up,
            'j' => MonitKey.Down,
            'g' => MonitKey.First,
            'G' => MonitKey.Last,
            'r' => MonitKey.Restart,
            's' => MonitKey.Stop,
            'l' => MonitKey.Reload,
            'q' or 'Q' => MonitKey.Quit,
            _ => MonitKey.None,
        };
    }
}
