using System.Globalization;
using System.Text;
using Tend.Api;

namespace Tend.Cli.Rendering;

/// <summary>
/// The `tend list` table, PM2-style box drawing. Widths are measured on the plain text and colour
/// codes are added around the padded cell, so colours never shift the borders.
/// </summary>
internal static class ListTable
{
    private static readonly string[] s_headers = ["id", "name", "inst", "pid", "status", "ready", "↺", "uptime", "cpu", "mem"];
    private static readonly string[] s_headersWithNote = [.. s_headers, "note"];
    private const int StatusColumn = 4;
    private const int NoteWidth = 40;

    public const string EmptyHint = "No apps yet. Start one with `tend start <command>` or `tend start tend.yaml`.";

    public static string Render(IReadOnlyList<InstanceInfo> rows, bool color)
    {
        // The note column (an app's STATUS= text) only appears when some instance has one.
        bool notes = rows.Any(r => !string.IsNullOrEmpty(r.StatusText));
        string[] headers = notes ? s_headersWithNote : s_headers;
        var cells = new List<string[]>(rows.Count);
        foreach (InstanceInfo row in rows) cells.Add(Cells(row, notes));

        int[] widths = new int[headers.Length];
        for (int c = 0; c < widths.Length; c++)
        {
            widths[c] = headers[c].Length;
            foreach (string[] r in cells) widths[c] = Math.Max(widths[c], r[c].Length);
        }

        var text = new StringBuilder();
        Border(text, widths, '┌', '┬', '┐');
        Row(text, headers, widths, c => color ? Ansi.Bold + Ansi.Cyan : null);
        if (cells.Count > 0)
        {
            Border(text, widths, '├', '┼', '┤');
            for (int i = 0; i < cells.Count; i++)
            {
                string status = rows[i].Status;
                Row(text, cells[i], widths, c => color && c == StatusColumn ? Ansi.ForStatus(status) : null);
            }
        }
        Border(text, widths, '└', '┴', '┘');
        if (cells.Count == 0) text.Append(EmptyHint).Append('\n');
        return text.ToString();
    }

    private static string[] Cells(InstanceInfo row, bool note)
    {
        var inv = CultureInfo.InvariantCulture;
        bool running = row.Pid is not null;
        string[] cells =
        [
            row.Id.ToString(inv),
            row.Name,
            row.Instance.ToString(inv),
            running ? row.Pid!.Value.ToString(inv) : "-",
            StatusCell(row),
            row.Status == "online" ? (row.Ready ? "yes" : "no") : "-",
            row.Restarts.ToString(inv),
            running ? Format.Uptime(row.UptimeMs) : "0",
            Format.Cpu(row.CpuPercent),
            Format.Memory(row.MemoryBytes),
        ];
        if (!note) return cells;
        // An app's own words: escaped, whatever the output (a table is read on a screen).
        string text = Format.Printable(row.StatusText ?? "");
        if (text.Length > NoteWidth) text = text[..(NoteWidth - 1)] + "…";
        return [.. cells, text];
    }

    /// <summary>The status, and why a waiting instance is not restarting: held for a dependency, or its breaker open.</summary>
    private static string StatusCell(InstanceInfo row) => row.Status switch
    {
        "waiting" when row.StatusReason?.StartsWith("held:", StringComparison.Ordinal) == true => "waiting (held)",
        "waiting" when row.StatusReason?.StartsWith("breaker open", StringComparison.Ordinal) == true => "waiting (breaker)",
        _ => row.Status,
    };

    private static void Border(StringBuilder text, int[] widths, char left, char middle, char right)
    {
        text.Append(left);
        for (int c = 0; c < widths.Length; c++)
        {
            if (c > 0) text.Append(middle);
            text.Append('─', widths[c] + 2);
        }
        text.Append(right).Append('\n');
    }

    private static void Row(StringBuilder text, string[] cells, int[] widths, Func<int, string?> colourOf)
    {
        text.Append('│');
        for (int c = 0; c < cells.Length; c++)
        {
            string padded = cells[c].PadRight(widths[c]);
            string? sgr = colourOf(c);
            text.Append(' ').Append(sgr is null ? padded : sgr + padded + Ansi.Reset).Append(" │");
        }
        text.Append('\n');
    }
}
