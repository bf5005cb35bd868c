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
    private const int StatusColumn = 4;

    public const string EmptyHint = "No apps yet. Start one with `tend start <command>` or `tend start tend.yaml`.";

    public static string Render(IReadOnlyList<InstanceInfo> rows, bool color)
    {
        var cells = new List<string[]>(rows.Count);
        foreach (InstanceInfo row in rows) cells.Add(Cells(row));

        int[] widths = new int[s_headers.Length];
        for (int c = 0; c < widths.Length; c++)
        {
            widths[c] = s_headers[c].Length;
            foreach (string[] r in cells) widths[c] = Math.Max(widths[c], r[c].Length);
        }

        var text = new StringBuilder();
        Border(text, widths, '┌', '┬', '┐');
        Row(text, s_headers, widths, c => color ? Ansi.Bold + Ansi.Cyan : null);
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

    private static string[] Cells(InstanceInfo row)
    {
        var inv = CultureInfo.InvariantCulture;
        bool running = row.Pid is not null;
        return
        [
            row.Id.ToString(inv),
            row.Name,
            row.Instance.ToString(inv),
            running ? row.Pid!.Value.ToString(inv) : "-",
            row.Status,
            row.Status == "online" ? (row.Ready ? "yes" : "no") : "-",
            row.Restarts.ToString(inv),
            running ? Format.Uptime(row.UptimeMs) : "0",
            Format.Cpu(row.CpuPercent),
            Format.Memory(row.MemoryBytes),
        ];
    }

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
