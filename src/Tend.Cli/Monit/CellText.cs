using System.Text;

namespace Tend.Cli.Monit;

/// <summary>
/// Text made safe and short enough for one screen row. App output can hold anything: colour codes,
/// tabs, carriage returns, wide characters. Each would break the grid (a stray escape restyles the
/// screen, a tab or a wide character pushes the border out), so lines are cleaned and cut to a
/// width counted in terminal cells before Spectre sees them.
/// </summary>
internal static class CellText
{
    /// <summary>Drops escape sequences and control characters; a tab becomes spaces to the next stop of 4.</summary>
    public static string Clean(string text)
    {
        StringBuilder? clean = null;
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (c >= ' ' && c != '\u007f' && c != '\u001b') { clean?.Append(c); continue; }
            clean ??= new StringBuilder(text.Length).Append(text, 0, i);
            if (c == '\t') clean.Append(' ', 4 - clean.Length % 4);
            else if (c == '\u001b') i = SkipEscape(text, i);
        }
        return clean?.ToString() ?? text;
    }

    /// <summary>The text cut to <paramref name="width"/> cells, ending in "…" when something was cut.</summary>
    public static string Fit(string text, int width)
    {
        if (width <= 0) return "";
        if (Width(text) <= width) return text;
        var fitted = new StringBuilder(width);
        int used = 0;
        for (int i = 0; i < text.Length; i++)
        {
            int step = char.IsHighSurrogate(text[i]) && i + 1 < text.Length ? 2 : 1;
            int cells = CellsOf(text, i);
            if (used + cells > width - 1) break;
            fitted.Append(text, i, step);
            used += cells;
            i += step - 1;
        }
        return fitted.Append('…').ToString();
    }

    public static int Width(string text)
    {
        int cells = 0;
        for (int i = 0; i < text.Length; i++)
        {
            cells += CellsOf(text, i);
            if (char.IsHighSurrogate(text[i])) i++;
        }
        return cells;
    }

    // East Asian wide and fullwidth ranges, and everything past the BMP (mostly emoji), take two
    // cells; combining marks are rare enough in logs to count as one.
    private static int CellsOf(string text, int i)
    {
        char c = text[i];
        if (char.IsHighSurrogate(c)) return 2;
        return c is (>= '\u1100' and <= '\u115f') or (>= '\u2e80' and <= '\ua4cf') or (>= '\uac00' and <= '\ud7a3')
            or (>= '\uf900' and <= '\ufaff') or (>= '\ufe30' and <= '\ufe4f') or (>= '\uff00' and <= '\uff60') or (>= '\uffe0' and <= '\uffe6')
            ? 2 : 1;
    }

    // CSI (ESC [ … final byte) and OSC (ESC ] … BEL or ESC \) are skipped whole; any other
    // escape takes the one character after it.
    private static int SkipEscape(string text, int at)
    {
        int i = at + 1;
        if (i >= text.Length) return at;
        if (text[i] == '[')
        {
            for (i++; i < text.Length; i++)
            {
                if (text[i] is >= '@' and <= '~') return i;
            }
            return text.Length - 1;
        }
        if (text[i] == ']')
        {
            for (i++; i < text.Length; i++)
            {
                if (text[i] == '\u0007') return i;
                if (text[i] == '\u001b' && i + 1 < text.Length && text[i + 1] == '\\') return i + 1;
            }
            return text.Length - 1;
        }
        return i;
    }
}
