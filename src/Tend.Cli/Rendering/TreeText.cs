using System.Globalization;
using System.Text;
using Tend.Api;

namespace Tend.Cli.Rendering;

/// <summary>
/// The tree as text, one node a line:
/// <code>
/// root  one_for_one  running
/// └─ backend  rest_for_one  running  ↺ 2 (max 3 in 10s)
///    ├─ db  online  pid 4242  ↺ 1
///    └─ api  online  pid 4250  ↺ 1  after db (ready)
/// </code>
/// </summary>
internal static class TreeText
{
    public static string Render(TreeNodeInfo root, bool color)
    {
        var text = new StringBuilder();
        Line(text, root, color);
        Children(text, root, "", color);
        return text.ToString();
    }

    private static void Children(StringBuilder text, TreeNodeInfo node, string indent, bool color)
    {
        for (int i = 0; i < node.Children.Count; i++)
        {
            bool last = i == node.Children.Count - 1;
            text.Append(indent).Append(last ? "└─ " : "├─ ");
            Line(text, node.Children[i], color);
            Children(text, node.Children[i], indent + (last ? "   " : "│  "), color);
        }
    }

    private static void Line(StringBuilder text, TreeNodeInfo node, bool color)
    {
        text.Append(node.Name);
        if (node.Kind == "supervisor") text.Append("  ").Append(node.Strategy);
        text.Append("  ").Append(Paint(node.Status, color));
        if (node.Pids.Count > 0) text.Append(node.Pids.Count == 1 ? "  pid " : "  pids ").Append(string.Join(",", node.Pids));
        if (node.Kind == "supervisor" && node.MaxRestarts is int max && node.WithinMs is long within)
        {
            text.Append("  ↺ ").Append(node.Restarts).Append(" (max ").Append(max).Append(" in ").Append(Format.Duration(within)).Append(')');
        }
        else if (node.Kind == "app")
        {
            text.Append("  ↺ ").Append(node.Restarts.ToString(CultureInfo.InvariantCulture));
        }
        if (node.Kind == "supervisor" && node.Restart != "always") text.Append("  restart: ").Append(node.Restart);
        if (node.DependsOn.Count > 0) text.Append("  after ").Append(string.Join(", ", node.DependsOn));
        if (node.Reason is { } reason) text.Append("  (").Append(reason).Append(')');
        text.Append('\n');
    }

    private static string Paint(string status, bool color) =>
        Ansi.Paint(status, Ansi.ForStatus(status switch { "running" => "online", "failed" => "errored", _ => status }), color);
}
