using System.Globalization;
using Spectre.Console;
using Spectre.Console.Rendering;
using Tend.Api;
using Tend.Cli.Rendering;

namespace Tend.Cli.Monit;

/// <summary>
/// Draws a <see cref="MonitState"/> as one full screen of exactly width × height cells: a title
/// line, the instance table (cpu and memory with their sparklines), the selected app's log tail,
/// and the status bar. Pure: no terminal, no clock, no daemon — the same state and size give the
/// same text, which is what the renderer tests check.
///
/// Columns are sized here rather than by Spectre's table solver, so a narrow terminal loses whole
/// columns in a fixed order (sparklines first, then uptime, pid, ready, id) and long names end in
/// "…", instead of cells wrapping onto a second line and shifting the grid.
/// </summary>
internal static class MonitScreen
{
    public const int MinWidth = 50;
    public const int MinHeight = 12;
    public const int MaxSparkWidth = MonitState.HistoryLength;
    private const int MinSparkWidth = 8;
    private const int MaxNameWidth = 24;
    private const double CpuFloor = 5; // percent: below this, a sparkline stays low
    private const double MemoryFloor = 1024 * 1024;

    private static readonly Style s_header = new(Color.Grey, decoration: Decoration.Bold);
    private static readonly Style s_dim = new(Color.Grey);
    private static readonly Style s_title = new(Color.Aqua, decoration: Decoration.Bold);
    private static readonly Style s_cpuSpark = new(Color.Aqua);
    private static readonly Style s_memSpark = new(Color.Fuchsia);

    /// <summary>The screen as text: lines joined by '\n', ANSI styles only when <paramref name="color"/>.</summary>
    public static string Render(MonitState state, int width, int height, bool color)
    {
        var output = new StringWriter();
        IAnsiConsole console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = color ? AnsiSupport.Yes : AnsiSupport.No,
            ColorSystem = color ? ColorSystemSupport.Standard : ColorSystemSupport.NoColors,
            Out = new AnsiConsoleOutput(output),
            Interactive = InteractionSupport.No,
            Enrichment = new ProfileEnrichment { UseDefaultEnrichers = false },
            EnvironmentVariables = new Dictionary<string, string>(),
        });
        console.Profile.Width = width;
        console.Profile.Height = height;
        console.Profile.Capabilities.Unicode = true;
        console.Write(Build(state, width, height));
        return output.ToString().Replace("\r\n", "\n", StringComparison.Ordinal).TrimEnd('\n');
    }

    public static IRenderable Build(MonitState state, int width, int height)
    {
        if (width < MinWidth || height < MinHeight)
        {
            string message = string.Create(CultureInfo.InvariantCulture,
                $"terminal too small for tend monit ({width}x{height}, needs {MinWidth}x{MinHeight}); q quits");
            return new Layout(new Text(CellText.Fit(message, width)));
        }

        int rest = height - 2;
        int tableHeight = Math.Clamp(Math.Max(state.Rows.Length, 1) + 3, 4, Math.Max(4, rest - Math.Max(5, rest / 3)));
        var root = new Layout("root").SplitRows(
            new Layout("title", TitleLine(state, width)).Size(1),
            new Layout("table", InstancePanel(state, width, tableHeight)).Size(tableHeight),
            new Layout("logs", LogPanel(state, width, rest - tableHeight)),
            new Layout("status", StatusLine(state, width)).Size(1));
        return root;
    }

    private static IRenderable TitleLine(MonitState state, int width)
    {
        string clock = TimeZoneInfo.ConvertTime(state.Now, state.Zone).ToString("HH:mm:ss", CultureInfo.InvariantCulture);
        const string Title = "tend monit";
        int room = width - Title.Length - clock.Length - 1;
        string info;
        Style infoStyle;
        if (state.DaemonError is { } error)
        {
            info = CellText.Fit("  daemon unreachable: " + CellText.Clean(error) + " (retrying every second)", room);
            infoStyle = new Style(Color.Red, decoration: Decoration.Bold);
        }
        else
        {
            info = CellText.Fit("  " + Summary(state.Rows) + "  ·  " + state.Home, room);
            infoStyle = s_dim;
        }
        return new Paragraph()
            .Append(Title, s_title)
            .Append(info, infoStyle)
            .Append(new string(' ', Math.Max(1, width - Title.Length - CellText.Width(info) - clock.Length)))
            .Append(clock, s_dim);
    }

    private static string Summary(IReadOnlyList<InstanceInfo> rows)
    {
        var parts = new List<string> { Count(rows.Count, "instance") };
        foreach (IGrouping<string, InstanceInfo> status in rows.GroupBy(r => r.Status).OrderBy(g => g.Key, StringComparer.Ordinal))
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"{status.Count()} {status.Key}"));
        return string.Join(", ", parts);
    }

    private static string Count(int n, string noun) =>
        string.Create(CultureInfo.InvariantCulture, $"{n} {noun}{(n == 1 ? "" : "s")}");

    private static IRenderable InstancePanel(MonitState state, int width, int height)
    {
        int visible = height - 3;
        IRenderable body;
        string header = "instances";
        if (state.Rows.Length == 0)
        {
            body = new Text(CellText.Fit(state.DaemonError is null ? ListTable.EmptyHint : "(nothing yet)", width - 4), s_dim);
        }
        else
        {
            int selected = Math.Max(0, state.SelectedIndex);
            // Scroll just enough to keep the selection in view.
            int offset = selected < visible ? 0 : selected - visible + 1;
            int shown = Math.Min(visible, state.Rows.Length - offset);
            if (shown < state.Rows.Length)
                header = string.Create(CultureInfo.InvariantCulture, $"instances {offset + 1}-{offset + shown} of {state.Rows.Length}");
            body = InstanceTable(state, width - 4, offset, shown);
        }
        if (state.DaemonError is not null) header += " (last known)";
        return new Panel(body)
        {
            Header = new PanelHeader(" " + Markup.Escape(header) + " "),
            Border = BoxBorder.Rounded,
            BorderStyle = state.DaemonError is null ? s_dim : new Style(Color.Red),
            Padding = new Padding(1, 0, 1, 0),
            Expand = true,
        };
    }

    /// <summary>Which columns fit <paramref name="width"/>, and how wide the name and the sparklines are.</summary>
    internal sealed record ColumnPlan(bool Id, bool Pid, bool Ready, bool Uptime, int NameWidth, int SparkWidth);

    internal static ColumnPlan PlanColumns(IReadOnlyList<InstanceInfo> rows, int width)
    {
        int idWidth = Math.Max(2, rows.Count == 0 ? 1 : rows.Max(r => r.Id.ToString(CultureInfo.InvariantCulture).Length));
        int nameNatural = Math.Clamp(rows.Count == 0 ? 4 : rows.Max(r => CellText.Width(MonitState.KeyOf(r))), 4, MaxNameWidth);
        // Each column is its width plus one space; the ones that always stay: marker, status, ↺, cpu, mem.
        int fixedWidth = 2 + 10 + 5 + 7 + 9;
        bool id = true, pid = true, ready = true, uptime = true;
        int Used() => fixedWidth + (id ? idWidth + 1 : 0) + (pid ? 8 : 0) + (ready ? 6 : 0) + (uptime ? 7 : 0);

        int spark = Math.Min(MaxSparkWidth, (width - Used() - (nameNatural + 1) - 2) / 2);
        if (spark >= MinSparkWidth) return new ColumnPlan(id, pid, ready, uptime, nameNatural, spark);

        // No room for sparklines: drop columns until the name fits at 8 cells (or all are gone).
        const int NameFloor = 8;
        if (Used() + Math.Min(nameNatural, NameFloor) + 1 > width) uptime = false;
        if (Used() + Math.Min(nameNatural, NameFloor) + 1 > width) pid = false;
        if (Used() + Math.Min(nameNatural, NameFloor) + 1 > width) ready = false;
        if (Used() + Math.Min(nameNatural, NameFloor) + 1 > width) id = false;
        int name = Math.Max(1, Math.Min(nameNatural, width - Used() - 1));
        return new ColumnPlan(id, pid, ready, uptime, name, 0);
    }

    private static Table InstanceTable(MonitState state, int width, int offset, int count)
    {
        ColumnPlan plan = PlanColumns(state.Rows, width);
        int idWidth = Math.Max(2, state.Rows.Max(r => r.Id.ToString(CultureInfo.InvariantCulture).Length));
        var table = new Table { Border = TableBorder.None, ShowHeaders = true };
        void Column(string header, int columnWidth, bool right = false, bool last = false)
        {
            var column = new TableColumn(new Text(CellText.Fit(header, columnWidth), s_header))
            {
                Width = columnWidth,
                NoWrap = true,
                Padding = new Padding(0, 0, last ? 0 : 1, 0),
                Alignment = right ? Justify.Right : Justify.Left,
            };
            table.AddColumn(column);
        }

        Column("", 1);
        if (plan.Id) Column("id", idWidth, right: true);
        Column("name", plan.NameWidth);
        if (plan.Pid) Column("pid", 7, right: true);
        Column("status", 9);
        if (plan.Ready) Column("ready", 5);
        Column("↺", 4, right: true);
        if (plan.Uptime) Column("uptime", 6, right: true);
        Column("cpu", 6, right: true);
        if (plan.SparkWidth > 0) Column(SparkHeader(plan.SparkWidth), plan.SparkWidth);
        Column("mem", 8, right: true, last: plan.SparkWidth == 0);
        if (plan.SparkWidth > 0) Column(SparkHeader(plan.SparkWidth), plan.SparkWidth, last: true);

        int selected = state.SelectedIndex;
        for (int i = offset; i < offset + count; i++)
        {
            InstanceInfo row = state.Rows[i];
            bool isSelected = i == selected;
            Style plain = isSelected ? new Style(decoration: Decoration.Bold | Decoration.Invert) : Style.Plain;
            Text Cell(string text, Style? style = null) =>
                new(text, isSelected ? (style ?? Style.Plain).Combine(plain) : style ?? Style.Plain);

            var inv = CultureInfo.InvariantCulture;
            bool running = row.Pid is not null;
            var cells = new List<IRenderable> { Cell(isSelected ? ">" : " ") };
            if (plan.Id) cells.Add(Cell(row.Id.ToString(inv)));
            cells.Add(Cell(CellText.Fit(CellText.Clean(MonitState.KeyOf(row)), plan.NameWidth)));
            if (plan.Pid) cells.Add(Cell(running ? row.Pid!.Value.ToString(inv) : "-"));
            cells.Add(Cell(row.Status, StatusStyle(row.Status)));
            if (plan.Ready) cells.Add(Cell(row.Status == "online" ? (row.Ready ? "yes" : "no") : "-", row.Status == "online" && !row.Ready ? new Style(Color.Yellow) : null));
            cells.Add(Cell(row.Restarts.ToString(inv), row.Restarts > 0 ? new Style(Color.Yellow) : null));
            if (plan.Uptime) cells.Add(Cell(running ? Format.Uptime(row.UptimeMs) : "-"));
            cells.Add(Cell(Format.Cpu(row.CpuPercent)));
            InstanceHistory history = state.HistoryOf(row);
            if (plan.SparkWidth > 0) cells.Add(new Text(Sparkline.Render(history.Cpu, plan.SparkWidth, CpuFloor), s_cpuSpark));
            cells.Add(Cell(Format.Memory(row.MemoryBytes)));
            if (plan.SparkWidth > 0) cells.Add(new Text(Sparkline.Render(history.Memory, plan.SparkWidth, MemoryFloor), s_memSpark));
            table.AddRow(cells);
        }
        return table;
    }

    // Beside the cpu and mem columns, "last 36s" says what the line covers; "36s" when narrower.
    private static string SparkHeader(int width)
    {
        string header = string.Create(CultureInfo.InvariantCulture, $"last {width}s");
        return header.Length <= width ? header : string.Create(CultureInfo.InvariantCulture, $"{width}s");
    }

    private static Style StatusStyle(string status) => status switch
    {
        "online" => new Style(Color.Green),
        "errored" or "blocked" => new Style(Color.Red),
        "waiting" or "launching" or "stopping" => new Style(Color.Yellow),
        "stopped" => s_dim,
        _ => Style.Plain,
    };

    private static IRenderable LogPanel(MonitState state, int width, int height)
    {
        int visible = Math.Max(0, height - 2);
        int textWidth = width - 4;
        var lines = new List<IRenderable>();
        if (state.LogApp is null)
        {
            lines.Add(new Text("no app selected", s_dim));
        }
        else if (state.Log.Count == 0)
        {
            lines.Add(new Text(state.LogProblem is null ? "(no output yet)" : "", s_dim));
        }
        else
        {
            int from = Math.Max(0, state.Log.Count - visible);
            for (int i = from; i < state.Log.Count; i++)
            {
                LogLineDto line = state.Log[i];
                string prefix = Format.InstanceName(CellText.Clean(line.App), line.Instance) + " ";
                var paragraph = new Paragraph();
                paragraph.Append(CellText.Fit(prefix, textWidth), new Style(line.Stream == "err" ? Color.Red : Color.Green));
                int room = textWidth - CellText.Width(prefix);
                if (room > 0) paragraph.Append(CellText.Fit(CellText.Clean(line.Text), room));
                lines.Add(paragraph);
            }
        }

        string header = state.LogApp is null ? "logs" : "logs · " + CellText.Clean(state.LogApp);
        if (state.LogProblem is { } problem) header += " · " + problem;
        return new Panel(new Rows(lines))
        {
            Header = new PanelHeader(" " + Markup.Escape(CellText.Fit(header, width - 6)) + " "),
            Border = BoxBorder.Rounded,
            BorderStyle = state.LogProblem is null ? s_dim : new Style(Color.Yellow),
            Padding = new Padding(1, 0, 1, 0),
            Expand = true,
        };
    }

    private static IRenderable StatusLine(MonitState state, int width)
    {
        string help = MonitKeys.Help;
        if (state.Notice is not { } notice) return new Text(CellText.Fit(help, width), s_dim);

        Style style = notice.Kind switch
        {
            NoticeKind.Success => new Style(Color.Green),
            NoticeKind.Error => new Style(Color.Red, decoration: Decoration.Bold),
            _ => new Style(Color.Yellow),
        };
        // The last action's outcome matters more than the key help: the help goes first when short of room.
        int room = width - help.Length - 2;
        if (room < 20) return new Text(CellText.Fit(CellText.Clean(notice.Text), width), style);
        string text = CellText.Fit(CellText.Clean(notice.Text), room);
        return new Paragraph()
            .Append(text, style)
            .Append(new string(' ', width - CellText.Width(text) - help.Length))
            .Append(help, s_dim);
    }
}
